package dev.kiln.debian;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One binary package from a repository's {@code Packages} index: what the solver needs, and what the build needs
 * to fetch it without another lookup. Relation fields stay as text and are parsed when the solver reaches them.
 */
public final class Pkg {

    public final String name;
    public final String version;
    public final String arch;
    public final String multiArch;
    public final boolean essential;
    public final String priority;
    final String depends;
    final String preDepends;
    final String conflicts;
    final String breaks;
    final List<Provide> provides;
    public final String filename;
    public final long size;
    public final long installedSize;
    public final String sha256;
    public final String summary;
    public final String homepage;
    public final String section;
    public final String sourceId;
    public final String baseUrl;
    /** The cached, uncompressed index this package was read from, and the byte offset of its stanza there. */
    public final Path indexFile;
    public final long offset;
    private DebVersion parsed;
    private List<List<Relation>> dependsParsed;
    private List<List<Relation>> conflictsParsed;

    /** A name this package provides, with the version it provides it at (null when unversioned). */
    public record Provide(String name, String version) {
    }

    Pkg(Builder b) {
        this.name = b.name.intern();
        this.version = b.version;
        this.arch = b.arch.intern();
        this.multiArch = b.multiArch == null ? null : b.multiArch.intern();
        this.essential = b.essential;
        this.priority = b.priority == null ? null : b.priority.intern();
        this.depends = b.depends;
        this.preDepends = b.preDepends;
        this.conflicts = b.conflicts;
        this.breaks = b.breaks;
        this.provides = b.provides == null ? List.of() : parseProvides(b.provides);
        this.filename = b.filename;
        this.size = b.size;
        this.installedSize = b.installedSize;
        this.sha256 = b.sha256;
        this.summary = b.summary;
        this.homepage = b.homepage;
        this.section = b.section == null ? null : b.section.intern();
        this.sourceId = b.sourceId;
        this.baseUrl = b.baseUrl;
        this.offset = b.offset;
        this.indexFile = b.indexFile;
    }

    private static List<Provide> parseProvides(String field) {
        return Relation.parseField(field).stream().map(g -> g.get(0))
                .map(r -> new Provide(r.name(), "=".equals(r.op()) ? r.version() : null)).toList();
    }

    public DebVersion debVersion() {
        if (parsed == null) {
            parsed = DebVersion.parse(version);
        }
        return parsed;
    }

    /** Pre-Depends then Depends, as AND-groups of alternatives. */
    public synchronized List<List<Relation>> dependencies() {
        if (dependsParsed == null) {
            List<List<Relation>> all = new ArrayList<>(Relation.parseField(preDepends));
            all.addAll(Relation.parseField(depends));
            dependsParsed = all;
        }
        return dependsParsed;
    }

    /** Conflicts and Breaks: both keep two packages from being in one installed set. */
    public synchronized List<List<Relation>> conflicts() {
        if (conflictsParsed == null) {
            List<List<Relation>> all = new ArrayList<>(Relation.parseField(conflicts));
            all.addAll(Relation.parseField(breaks));
            conflictsParsed = all;
        }
        return conflictsParsed;
    }

    public List<Provide> provides() {
        return provides;
    }

    /** The epoch, upstream version and Debian revision, and the frozen form {@code [epoch:]version-revision.arch}. */
    public String frozen() {
        return version + "." + arch;
    }

    public String url() {
        return baseUrl.endsWith("/") ? baseUrl + filename : baseUrl + "/" + filename;
    }

    /** {@code name version arch}, for messages. */
    @Override
    public String toString() {
        return name + " " + version + " (" + arch + ")";
    }

    /** Collects one stanza's fields. */
    public static final class Builder {
        String name;
        String version;
        String arch;
        String multiArch;
        boolean essential;
        String priority;
        String depends;
        String preDepends;
        String conflicts;
        String breaks;
        String provides;
        String filename;
        long size;
        long installedSize;
        String sha256;
        String summary;
        String homepage;
        String section;
        String sourceId;
        String baseUrl;
        Path indexFile;
        long offset;

        public Builder field(String key, String value) {
            switch (key) {
                case "Package" -> name = value;
                case "Version" -> version = value;
                case "Architecture" -> arch = value;
                case "Multi-Arch" -> multiArch = value;
                case "Essential" -> essential = value.equals("yes");
                case "Priority" -> priority = value;
                case "Depends" -> depends = value;
                case "Pre-Depends" -> preDepends = value;
                case "Conflicts" -> conflicts = value;
                case "Breaks" -> breaks = value;
                case "Provides" -> provides = value;
                case "Filename" -> filename = value;
                case "Size" -> size = parseLong(value);
                case "Installed-Size" -> installedSize = parseLong(value) * 1024;
                case "SHA256" -> sha256 = value;
                case "Description" -> summary = value;
                case "Homepage" -> homepage = value;
                case "Section" -> section = value;
                default -> { }
            }
            return this;
        }

        private static long parseLong(String value) {
            try {
                return Long.parseLong(value.strip());
            } catch (NumberFormatException e) {
                return 0;
            }
        }

        public Builder origin(String sourceId, String baseUrl, Path indexFile, long offset) {
            this.sourceId = sourceId;
            this.baseUrl = baseUrl;
            this.indexFile = indexFile;
            this.offset = offset;
            return this;
        }

        public boolean complete() {
            return name != null && version != null && arch != null;
        }

        public Pkg build() {
            return new Pkg(this);
        }
    }
}
