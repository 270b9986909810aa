package dev.kiln.image.tree;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.depsolve.DepsFile;
import dev.kiln.image.fetch.DebArchive;
import dev.kiln.source.Distros;
import dev.kiln.store.AtomicFiles;
import dev.kiln.store.FileTrees;
import dev.kiln.testing.TestServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Kiln's installer is fast (Essential packages unpacked by Kiln on every core, packages decompressed ahead of dpkg,
 * dpkg's unsafe I/O, a cached Essential base, placeholders for SSH host keys) but must install what dpkg installs:
 * the example blueprint's tree as Kiln caches it (installed, not yet customized; built twice, with nothing cached and
 * on the Essential base the first build cached) is compared with the same frozen
 * package set installed by plain dpkg (the Essential set unpacked by {@code dpkg-deb} and tar, then {@code dpkg
 * --install} of the Essential set and of the rest, as a bootstrapper does, with dpkg's default I/O) as root in a
 * chroot, with the environment Kiln's chroot has. Every path, its type, mode, owner, link target and bytes must be
 * the same, except the few files named below with the reason each differs.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + PlainDpkgTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=",
        "kiln.compose.retries=1"})
class PlainDpkgTest {

    static final String ROOT = "target/it/plain-dpkg";

    /** Files that differ by design, each with its reason. */
    private static final Map<Pattern, String> EXPECTED = Map.of(
            Pattern.compile("var/log/.*"), "logs: times of this run (the image's hygiene removes them)",
            Pattern.compile("etc/ssh/ssh_host_.*"),
            "SSH host keys: random; Kiln has openssh-server's postinst skip them (each image makes its own at boot)",
            Pattern.compile("var/cache/ldconfig/aux-cache"), "ldconfig's cache of the inodes and times of libraries");

    @LocalServerPort
    int port;

    @AfterAll
    static void clean() throws IOException {
        FileTrees.delete(Path.of(ROOT, "reference"));
    }

    @Test
    void theExampleBlueprintsTreeIsWhatPlainDpkgInstalls() throws Exception {
        Path state = Path.of(ROOT, "state").toAbsolutePath();
        TestServer server = new TestServer(port, state);
        String uuid = server.start("example-http-server", "ext4-filesystem", 0);
        assertThat(server.await(uuid, 1_200_000, "FINISHED", "FAILED")).isEqualTo("FINISHED");

        // the installed tree Kiln cached for this package set (on tmpfs, else in the state directory)
        Path cached = cachedTree(state);
        Path kiln = cached.resolve("tree");
        long sde = Long.parseLong(Files.readString(cached.resolve("sde")).strip());

        // the same frozen set from Kiln's package cache
        List<Map<String, Object>> deps = DepsFile.read(Files.readString(state.resolve("results").resolve(uuid)
                .resolve("deps.toml")));
        Map<String, Path> debs = new TreeMap<>();
        Map<String, Map<String, String>> controls = new HashMap<>();
        for (Map<String, Object> d : deps) {
            String sha = String.valueOf(d.get("checksum")).replaceFirst("^sha256:", "");
            Path deb = state.resolve("cache/packages").resolve(sha + ".deb");
            assertThat(AtomicFiles.sha256(deb)).isEqualTo(sha);
            debs.put((String) d.get("name"), deb);
            controls.put((String) d.get("name"), DebArchive.control(deb));
        }
        List<String> essential = EssentialSet.closure(controls);
        long baseSde = 0;
        for (String n : essential) {
            baseSde = Math.max(baseSde, DebArchive.buildTime(debs.get(n)));
        }
        Path reference = Path.of(ROOT, "reference").toAbsolutePath();
        FileTrees.delete(reference);
        Files.createDirectories(reference);
        Path list = reference.resolve("lists");
        Files.createDirectories(list);
        Files.write(list.resolve("essential"), essential.stream().map(n -> debs.get(n).toAbsolutePath().toString())
                .toList());
        Files.write(list.resolve("others"), debs.keySet().stream().filter(n -> !essential.contains(n))
                .map(n -> debs.get(n).toAbsolutePath().toString()).toList());
        Path script = reference.resolve("install.sh");
        Files.writeString(script, INSTALL);
        Process p = new ProcessBuilder("sh", script.toString(), reference.resolve("tree").toString(),
                list.toString(), String.valueOf(baseSde), String.valueOf(sde)).redirectErrorStream(true)
                .redirectOutput(reference.resolve("install.log").toFile()).start();
        assertThat(p.waitFor()).as(Files.readString(reference.resolve("install.log"))).isZero();

        assertSameAsPlain(kiln, reference.resolve("tree"));

        // the same set again, its tree no longer cached: installed on the Essential base the first build cached
        // (the packages' plain forms, made by the first build, bound read-only where dpkg reads them), it must be
        // the same tree
        FileTrees.delete(TreePlaces.tmpfsDir(state, "trees"));
        FileTrees.delete(state.resolve("cache/trees"));
        String again = server.start("example-http-server", "ext4-filesystem", 0);
        assertThat(server.await(again, 1_200_000, "FINISHED", "FAILED")).isEqualTo("FINISHED");
        assertThat(Files.readString(state.resolve("results").resolve(again).resolve("logs/combined.log")))
                .contains("taken from the cache")
                .containsPattern("packages handed to dpkg decompressed \\(" + (deps.size() - essential.size())
                        + " plain forms were cached, 0 made now\\), bound read-only from the cache");
        assertSameAsPlain(cachedTree(state).resolve("tree"), reference.resolve("tree"));
    }

    /** The one tree cached for the host's distribution (on tmpfs, else in the state directory). */
    private static Path cachedTree(Path state) throws IOException {
        Path shelf = TreePlaces.tmpfsDir(state, "trees").resolve(Distros.host());
        if (!Files.isDirectory(shelf)) {
            shelf = state.resolve("cache/trees").resolve(Distros.host());
        }
        try (Stream<Path> s = Files.list(shelf)) {
            return s.filter(p -> Files.isRegularFile(p.resolve("sde"))).findFirst().orElseThrow();
        }
    }

    /** The same paths, types, modes, owners, targets and bytes in Kiln's tree as in plain dpkg's. */
    private static void assertSameAsPlain(Path kiln, Path plain) throws IOException {
        int uid = (Integer) Files.getAttribute(kiln.resolve("etc/passwd"), "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int gid = (Integer) Files.getAttribute(kiln.resolve("etc/passwd"), "unix:gid", LinkOption.NOFOLLOW_LINKS);
        Map<String, String> ours = describe(kiln, uid, gid);
        Map<String, String> theirs = describe(plain, 0, 0);
        assertThat(ours.size()).isGreaterThan(10_000);
        List<String> differ = new ArrayList<>();
        for (String path : new TreeSet<>(union(ours.keySet(), theirs.keySet()))) {
            String a = ours.get(path);
            String b = theirs.get(path);
            if (!String.valueOf(a).equals(String.valueOf(b)) && EXPECTED.keySet().stream()
                    .noneMatch(x -> x.matcher(path).matches())) {
                differ.add(path + "\n    Kiln:      " + a + "\n    plain dpkg: " + b);
            }
        }
        assertThat(differ).as("paths that differ from a plain dpkg install").isEmpty();
        assertThat(ours.keySet()).as("Kiln's tree holds the host keys' placeholders no more").noneMatch(
                k -> k.startsWith("etc/ssh/ssh_host_"));
    }

    private static TreeSet<String> union(java.util.Set<String> a, java.util.Set<String> b) {
        TreeSet<String> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }

    /** Every path under {@code root}: type, mode, owner (relative to the tree's root ids), target or SHA-256. */
    private static Map<String, String> describe(Path root, int uid, int gid) throws IOException {
        Map<String, String> out = new HashMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.toList()) {
                String rel = root.relativize(p).toString();
                PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                int u = (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS) - uid;
                int g = (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS) - gid;
                int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
                String what;
                if (a.isSymbolicLink()) {
                    what = "link " + Files.readSymbolicLink(p);
                } else if (a.isDirectory()) {
                    what = "dir";
                } else if (a.isRegularFile()) {
                    what = "file " + AtomicFiles.sha256(p);
                } else {
                    what = "other " + Files.getAttribute(p, "unix:rdev", LinkOption.NOFOLLOW_LINKS);
                }
                out.put(rel, String.format("%s %04o %d:%d", what, a.isSymbolicLink() ? 0 : mode, u, g));
            }
        }
        return out;
    }

    /**
     * Plain dpkg: tree, lists (essential, others: .deb paths), the Essential set's and the whole set's source date
     * epoch. As root, in a mount namespace of its own (the chroot's /dev and /proc).
     */
    private static final String INSTALL = """
            set -eu
            T=$1 L=$2 BASE_SDE=$3 SDE=$4
            mkdir -p "$T"
            for d in bin sbin lib lib64; do mkdir -p "$T/usr/$d"; ln -s "usr/$d" "$T/$d"; done
            # merged /usr: the links stay links (as a bootstrapper unpacks the Essential set)
            while read -r deb; do dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$T"; done < "$L/essential"
            mkdir -p "$T/var/lib/dpkg/info" "$T/var/lib/dpkg/updates" "$T/etc" "$T/proc" "$T/sys" "$T/dev" "$T/tmp"
            : > "$T/var/lib/dpkg/status"; : > "$T/var/lib/dpkg/available"
            printf '#!/bin/sh\\n# Kiln: no service starts while the image is built\\nexit 101\\n' > "$T/usr/sbin/policy-rc.d"
            chmod 755 "$T/usr/sbin/policy-rc.d"
            mkdir -p "$T/debs"
            i=0; ess=; oth=
            while read -r deb; do i=$((i+1)); cp "$deb" "$T/debs/e$i.deb"; ess="$ess /debs/e$i.deb"; done < "$L/essential"
            while read -r deb; do i=$((i+1)); cp "$deb" "$T/debs/o$i.deb"; oth="$oth /debs/o$i.deb"; done < "$L/others"
            export T BASE_SDE SDE ess oth
            unshare --mount --propagation private sh -eu -c '
              mount --bind /dev "$T/dev"; mount -t proc proc "$T/proc"
              run() { # epoch, command...: in the chroot, with the environment Kiln gives dpkg
                e=$1; shift; chroot "$T" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 LANG=C.UTF-8 \\
                DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true SOURCE_DATE_EPOCH="$e" HOME=/root \\
                INITRD=No "$@"; }
              run "$BASE_SDE" dpkg --force-depends --install $ess
              run "$SDE" dpkg --force-depends --install $oth
              run "$SDE" dpkg --configure -a
              test -z "$(run "$SDE" dpkg --audit)"
              umount "$T/proc" "$T/dev"
            '
            rm -rf "$T/debs"
            """;
}
