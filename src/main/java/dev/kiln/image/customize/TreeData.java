package dev.kiln.image.customize;

import dev.kiln.blueprint.TreeCustomizations;
import dev.kiln.image.fetch.DebArchive;
import dev.kiln.image.sandbox.Chroot;
import dev.kiln.kickstart.KickstartArgs;
import dev.kiln.kickstart.PlanException;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.cert.CertificateException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The plan's data-carrying commands applied to the tree: {@code directory}, {@code file}, {@code aptsource} (a
 * deb822 {@code .sources} file, its keys in {@code /etc/apt/keyrings}, a pin for its priority) and {@code cacert}
 * (into {@code /usr/local/share/ca-certificates}, then {@code update-ca-certificates}). Paths are resolved inside the
 * tree as a chroot would (a link cannot lead out of it); the content is the blueprint's, looked up by the digest the
 * plan names, so nothing of it passes through the plan's text.
 */
final class TreeData {

    private static final Set<PosixFilePermission> DIR_MODE = perms(0755);

    private final Path tree;
    private final Chroot chroot;
    private final Map<String, String> data;

    TreeData(Path tree, Chroot chroot, Map<String, String> data) {
        this.tree = tree;
        this.chroot = chroot;
        this.data = data;
    }

    void apply(List<KickstartArgs> commands) throws IOException, InterruptedException {
        for (KickstartArgs c : commands) {
            if (c.command().equals("directory")) {
                directory(c);
            }
        }
        for (KickstartArgs c : commands) {
            if (c.command().equals("file")) {
                file(c);
            }
        }
        boolean certs = false;
        for (KickstartArgs c : commands) {
            switch (c.command()) {
                case "aptsource" -> aptSource(c);
                case "cacert" -> {
                    cacert(c);
                    certs = true;
                }
                default -> { }
            }
        }
        if (certs) {
            if (!Files.isRegularFile(tree.resolve("usr/sbin/update-ca-certificates"))) {
                throw new PlanException("cacerts: the image has no update-ca-certificates (the ca-certificates package)");
            }
            chroot.run(List.of("update-ca-certificates"));
        }
    }

    private String content(String digest, String what) throws PlanException {
        String s = data.get(digest);
        if (s == null || !TreeCustomizations.digest(s).equals(digest)) {
            throw new PlanException(what + ": the frozen blueprint holds no data with SHA-256 " + digest);
        }
        return s;
    }

    private void directory(KickstartArgs c) throws IOException {
        String path = c.options().get("path");
        Path dir = inside(path);
        boolean explicit = c.options().containsKey("mode") || c.options().containsKey("user")
                || c.options().containsKey("group");
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new PlanException("directories: " + path + " exists in the image and is not a directory");
            }
            if (explicit) {
                throw new PlanException("directories: " + path + " exists in the image; its mode, user or group may "
                        + "only be set for a directory the blueprint creates");
            }
            return;
        }
        if (!Files.isDirectory(dir.getParent())) {
            if (!c.options().containsKey("ensure-parents")) {
                throw new PlanException("directories: the parent of " + path + " does not exist in the image (set "
                        + "ensure_parents = true to create it)");
            }
            List<Path> missing = new ArrayList<>();
            for (Path p = dir.getParent(); !Files.isDirectory(p); p = p.getParent()) {
                missing.add(0, p);
            }
            for (Path p : missing) {
                Files.createDirectory(p);
                Files.setPosixFilePermissions(p, DIR_MODE);
                chroot.sandbox().own(p, 0, 0);
            }
        }
        Files.createDirectory(dir);
        own(dir, c, 0755);
    }

    private void file(KickstartArgs c) throws IOException {
        String path = c.options().get("path");
        String content = content(c.options().get("sha256"), "files " + path);
        Path file = inside(path);
        if (!Files.isDirectory(file.getParent())) {
            throw new PlanException("files: the directory of " + path + " does not exist in the image (list it under "
                    + "directories)");
        }
        if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new PlanException("files: " + path + " is a directory in the image");
        }
        write(file, content);
        own(file, c, 0644);
    }

    /** {@code aptsource --id= --file= --uris= --suites= [--components=] [--disabled] [--trusted] [--priority=] [--keys=]}. */
    private void aptSource(KickstartArgs c) throws IOException {
        String id = c.options().get("id");
        String name = c.options().get("file");
        StringBuilder s = new StringBuilder("# Written by Kiln from the blueprint's repository " + id + "\n");
        s.append("Types: deb\n");
        s.append("URIs: ").append(String.join(" ", c.list("uris"))).append('\n');
        s.append("Suites: ").append(String.join(" ", c.list("suites"))).append('\n');
        if (!c.list("components").isEmpty()) {
            s.append("Components: ").append(String.join(" ", c.list("components"))).append('\n');
        }
        if (c.options().containsKey("disabled")) {
            s.append("Enabled: no\n");
        }
        if (c.options().containsKey("trusted")) {
            s.append("Trusted: yes\n");
        }
        List<String> keys = c.list("keys");
        if (!keys.isEmpty()) {
            Path keyring = inside("/etc/apt/keyrings/" + name + ".asc");
            Files.createDirectories(keyring.getParent());
            StringBuilder all = new StringBuilder();
            for (String digest : keys) {
                all.append(content(digest, "repositories " + id + " key").strip()).append('\n');
            }
            write(keyring, all.toString());
            Files.setPosixFilePermissions(keyring, perms(0644));
            s.append("Signed-By: /etc/apt/keyrings/").append(name).append(".asc\n");
        }
        Path sources = inside("/etc/apt/sources.list.d/" + name + ".sources");
        Files.createDirectories(sources.getParent());
        write(sources, s.toString());
        Files.setPosixFilePermissions(sources, perms(0644));
        String priority = c.options().get("priority");
        if (priority != null) { // apt pins by origin: the host of each of the repository's URLs
            StringBuilder pin = new StringBuilder();
            for (String uri : c.list("uris")) {
                String host = URI.create(uri.startsWith("mirror+") ? uri.substring(7) : uri).getHost();
                pin.append(pin.isEmpty() ? "" : "\n").append("Package: *\nPin: origin \"").append(host).append("\"")
                        .append("\nPin-Priority: ").append(Integer.parseInt(priority)).append('\n');
            }
            Path pref = inside("/etc/apt/preferences.d/" + name + ".pref");
            Files.createDirectories(pref.getParent());
            write(pref, pin.toString());
            Files.setPosixFilePermissions(pref, perms(0644));
        }
    }

    private void cacert(KickstartArgs c) throws IOException {
        String digest = c.options().get("sha256");
        List<String> certs;
        try {
            certs = TreeCustomizations.certificates(content(digest, "cacerts"));
        } catch (CertificateException e) {
            throw new PlanException("cacerts: not a certificate: " + e.getMessage());
        }
        Path dir = inside("/usr/local/share/ca-certificates");
        Files.createDirectories(dir);
        for (int i = 0; i < certs.size(); i++) { // re-encoded by the parser: nothing but the certificate is written
            Path crt = dir.resolve("kiln-" + digest.substring(0, 16) + (i == 0 ? "" : "-" + i) + ".crt");
            write(crt, certs.get(i));
            Files.setPosixFilePermissions(crt, perms(0644));
        }
    }

    /** The place of an absolute path in the tree, its directories' links followed inside the tree, the last not. */
    private Path inside(String path) throws IOException {
        if (path == null || !path.startsWith("/") || path.contains("\0")) {
            throw new PlanException("not an absolute path: " + path);
        }
        int slash = path.lastIndexOf('/');
        Path parent = DebArchive.resolve(tree, path.substring(0, Math.max(slash, 1)), true);
        String name = path.substring(slash + 1);
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/")) {
            throw new PlanException("not a path of plain names: " + path);
        }
        return parent.resolve(name);
    }

    /** Replaces whatever is there (a link too, not its target) with the content, atomically. */
    private static void write(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".kiln-tmp");
        Files.deleteIfExists(tmp);
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void own(Path p, KickstartArgs c, int defaultMode) throws IOException {
        int uid = id(c.options().getOrDefault("user", "0"), "passwd", "user");
        int gid = id(c.options().getOrDefault("group", "0"), "group", "group");
        chroot.sandbox().own(p, uid, gid);
        String mode = c.options().get("mode");
        Files.setPosixFilePermissions(p, perms(mode == null ? defaultMode : Integer.parseInt(mode, 8)));
    }

    /** A user's or group's id: a number as it is, a name from the image's own account database. */
    private int id(String who, String db, String what) throws IOException {
        if (who.matches("\\d{1,5}")) {
            return Integer.parseInt(who);
        }
        for (String line : Files.readAllLines(tree.resolve("etc").resolve(db))) {
            String[] f = line.split(":");
            if (f.length >= 3 && f[0].equals(who)) {
                return Integer.parseInt(f[2]);
            }
        }
        throw new PlanException("no " + what + " " + who + " in the image (create it with a user or group "
                + "customization)");
    }

    private static Set<PosixFilePermission> perms(int mode) {
        Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) {
            if ((mode & (1 << i)) != 0) {
                out.add(order[i]);
            }
        }
        return out;
    }
}
