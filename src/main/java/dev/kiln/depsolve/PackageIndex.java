package dev.kiln.depsolve;

import dev.kiln.debian.Relation;
import dev.kiln.debian.Pkg;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every package of the enabled sources for one architecture (and {@code all}): by name with the newest version
 * first (the candidate, as apt picks it when nothing is pinned), and by the virtual names they provide.
 */
public final class PackageIndex {

    private static final List<String> PRIORITIES = List.of("required", "important", "standard", "optional", "extra");

    private final String nativeArch;
    private final Map<String, List<Pkg>> byName = new HashMap<>();
    private final Map<String, List<Pkg>> providers = new HashMap<>();
    private final List<String> sortedNames;

    public PackageIndex(Collection<Pkg> packages, String nativeArch) {
        this.nativeArch = nativeArch;
        Set<String> seen = new HashSet<>();
        for (Pkg p : packages) {
            if (!p.arch.equals(nativeArch) && !p.arch.equals("all")) {
                continue;
            }
            if (!seen.add(p.name + '\0' + p.version + '\0' + p.arch)) {
                continue; // the same build in two suites or sources: keep the first source's
            }
            byName.computeIfAbsent(p.name, k -> new ArrayList<>()).add(p);
            for (Pkg.Provide provide : p.provides()) {
                providers.computeIfAbsent(provide.name(), k -> new ArrayList<>()).add(p);
            }
        }
        Comparator<Pkg> newestFirst = (a, b) -> b.debVersion().compareTo(a.debVersion());
        byName.values().forEach(list -> list.sort(newestFirst));
        sortedNames = byName.keySet().stream().sorted(String.CASE_INSENSITIVE_ORDER).toList();
    }

    public String nativeArch() {
        return nativeArch;
    }

    /** Every version of a real package, newest first. */
    public List<Pkg> versions(String name) {
        return byName.getOrDefault(name, List.of());
    }

    public Pkg candidate(String name) {
        List<Pkg> versions = versions(name);
        return versions.isEmpty() ? null : versions.get(0);
    }

    /** Packages that provide {@code name} (a virtual package, or another name for a real one). */
    public List<Pkg> providersOf(String name) {
        return providers.getOrDefault(name, List.of());
    }

    /** Real package names, sorted case-insensitively. */
    public List<String> names() {
        return sortedNames;
    }

    public int size() {
        return byName.values().stream().mapToInt(List::size).sum();
    }

    /** What every bootable root holds: the candidates of Essential and Priority: required packages. */
    public List<Pkg> base() {
        List<Pkg> base = new ArrayList<>();
        for (String name : sortedNames) {
            Pkg c = candidate(name);
            if (c.essential || "required".equals(c.priority)) {
                base.add(c);
            }
        }
        base.sort(Comparator.comparing(p -> p.name));
        return base;
    }

    static int priorityRank(Pkg p) {
        int i = p.priority == null ? -1 : PRIORITIES.indexOf(p.priority);
        return i < 0 ? PRIORITIES.size() : i;
    }

    /** True when package {@code p} satisfies {@code r} by its own name and version, or by one of its Provides. */
    boolean satisfies(Pkg p, Relation r) {
        if (!archOk(p, r)) {
            return false;
        }
        if (p.name.equals(r.name()) && r.versionMatches(p.version)) {
            return true;
        }
        for (Pkg.Provide provide : p.provides()) {
            if (provide.name().equals(r.name()) && r.versionMatches(provide.version())) {
                return true;
            }
        }
        return false;
    }

    private boolean archOk(Pkg p, Relation r) {
        String q = r.archQual();
        if (q == null || q.equals("native") || q.equals(nativeArch)) {
            return true;
        }
        if (q.equals("any")) {
            return "allowed".equals(p.multiArch) || "foreign".equals(p.multiArch);
        }
        return q.equals(p.arch);
    }

    /** Every package (any version) that could satisfy {@code r}: real ones first, newest first, then providers. */
    List<Pkg> candidatesFor(Relation r) {
        List<Pkg> out = new ArrayList<>();
        for (Pkg p : versions(r.name())) {
            if (satisfies(p, r)) {
                out.add(p);
            }
        }
        for (Pkg p : providersOf(r.name())) {
            if (!p.name.equals(r.name()) && satisfies(p, r)) {
                out.add(p);
            }
        }
        return out;
    }
}
