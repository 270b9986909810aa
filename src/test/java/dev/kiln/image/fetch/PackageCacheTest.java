package dev.kiln.image.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.store.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The package cache's plain forms: the same package with its data.tar uncompressed, made once from the cached file,
 * refused for a file that is not the cache's, and the first to go when the cache outgrows its bound.
 */
class PackageCacheTest {

    @TempDir
    Path dir;

    /** A real .deb (dpkg-deb -b, xz) with {@code bytes} of incompressible data; answers its path in the cache. */
    Path deb(Path cache, String name, int bytes) throws Exception {
        Path src = dir.resolve("src-" + name);
        Files.createDirectories(src.resolve("DEBIAN"));
        Files.createDirectories(src.resolve("usr/share/" + name));
        Files.writeString(src.resolve("DEBIAN/control"), "Package: " + name + "\nVersion: 1.0\nArchitecture: all\n"
                + "Maintainer: Kiln <kiln@localhost>\nDescription: a test package\n");
        byte[] data = new byte[bytes];
        new Random(name.hashCode()).nextBytes(data);
        Files.write(src.resolve("usr/share/" + name + "/data"), data);
        Path built = dir.resolve(name + ".deb");
        Process p = new ProcessBuilder("dpkg-deb", "-Zxz", "--root-owner-group", "-b", src.toString(), built.toString())
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor()).isZero();
        Files.createDirectories(cache);
        Path in = cache.resolve(AtomicFiles.sha256(built) + ".deb");
        Files.move(built, in);
        return in;
    }

    static byte[] run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        assertThat(p.waitFor()).as(String.join(" ", command)).isZero();
        return out.toByteArray();
    }

    @Test
    void thePlainFormIsTheSamePackageUncompressedAndMadeOnce() throws Exception {
        Path cache = dir.resolve("packages");
        Path deb = deb(cache, "hello", 100_000);
        PackageCache packages = new PackageCache(cache, 1L << 30);
        assertThat(packages.hasPlain(deb)).isFalse();

        Path plain = packages.plain(deb);
        assertThat(plain).isEqualTo(cache.resolve("plain").resolve(deb.getFileName()));
        assertThat(packages.hasPlain(deb)).isTrue();
        assertThat(new String(run("ar", "t", plain.toString()))).isEqualTo("debian-binary\ncontrol.tar.xz\ndata.tar\n");
        assertThat(run("dpkg-deb", "--fsys-tarfile", plain.toString()))
                .isEqualTo(run("dpkg-deb", "--fsys-tarfile", deb.toString()));
        assertThat(run("dpkg-deb", "-f", plain.toString())).isEqualTo(run("dpkg-deb", "-f", deb.toString()));
        try (var left = Files.list(plain.getParent())) {
            assertThat(left.map(f -> f.getFileName().toString()).toList()).containsExactly(deb.getFileName().toString());
        }

        // asked again: the same file, not made again (its content untouched, only its time of use)
        Object inode = Files.getAttribute(plain, "unix:ino");
        Files.setLastModifiedTime(plain, FileTime.fromMillis(1_000_000_000_000L));
        assertThat(packages.plain(deb)).isEqualTo(plain);
        assertThat(Files.getAttribute(plain, "unix:ino")).isEqualTo(inode);
        assertThat(Files.getLastModifiedTime(plain).toMillis()).isGreaterThan(1_000_000_000_000L);
    }

    @Test
    void onlyTheCachesOwnPackagesHavePlainForms() throws Exception {
        Path cache = dir.resolve("packages");
        Path deb = deb(cache, "hello", 1000);
        PackageCache packages = new PackageCache(cache, 1L << 30);
        Path elsewhere = dir.resolve(deb.getFileName());
        Files.copy(deb, elsewhere);
        for (Path p : List.of(elsewhere, cache.resolve("../" + deb.getFileName()), cache.resolve("hello.deb"),
                cache.resolve("plain").resolve(deb.getFileName()))) {
            assertThatThrownBy(() -> packages.plain(p)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not a package of the cache");
        }
        assertThat(cache.resolve("plain")).doesNotExist();
    }

    @Test
    void heldPlainFormsAreLinksEveryUserCanReadUntilReleased() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path cache = dir.resolve("packages");
        Path closed = dir.resolve("closed/packages");
        Files.createDirectories(closed);
        Files.setPosixFilePermissions(dir.resolve("closed"), PosixFilePermissions.fromString("rwx------"));
        Path alone = deb(closed, "alone", 10_000);
        PackageCache hidden = new PackageCache(closed, 1L << 30);
        hidden.plain(alone);
        assertThat(hidden.hold(Map.of("alone", alone))).as("a directory on the way closed to other users").isNull();
        Path hello = deb(cache, "hello", 10_000);
        Path world = deb(cache, "world", 10_000);
        PackageCache packages = new PackageCache(cache, 1L << 30);
        Path plain = packages.plain(hello);
        packages.plain(world);
        Files.setPosixFilePermissions(plain, PosixFilePermissions.fromString("rw-------"));
        Path held = packages.hold(Map.of("hello", hello, "world", world));
        assertThat(held.getParent()).isEqualTo(cache.resolve("plain"));
        assertThat(Files.getAttribute(held.resolve("hello.deb"), "unix:ino")).isEqualTo(Files.getAttribute(plain, "unix:ino"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(plain)))
                .as("a plain form made before they were readable").isEqualTo("rw-r--r--");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(held)))
                .isEqualTo("rwxr-xr-x");
        // evicted meanwhile: still there for the holder
        Files.delete(plain);
        assertThat(run("dpkg-deb", "-f", held.resolve("hello.deb").toString(), "Package")).isEqualTo("hello\n".getBytes());
        // a plain form gone, or a name that is not a package's: nothing held
        assertThat(packages.hold(Map.of("hello", hello))).isNull();
        assertThatThrownBy(() -> packages.hold(Map.of("../x", world))).isInstanceOf(IllegalArgumentException.class);
        try (var left = Files.list(cache.resolve("plain"))) {
            assertThat(left.filter(f -> f.getFileName().toString().startsWith(".held-") && !f.equals(held)).toList())
                    .as("what failed to be held is gone").isEmpty();
        }
    }

    @Test
    void whatAKilledServiceLeftHalfMadeIsRemovedAtStart() throws Exception {
        Path cache = dir.resolve("packages");
        Files.createDirectories(cache.resolve("plain"));
        Files.writeString(cache.resolve(".download-1.tmp"), "partial");
        Files.writeString(cache.resolve("plain/.make-2.tmp"), "partial");
        Files.writeString(cache.resolve("plain/.make-2.tmp.data.tar"), "partial");
        Files.createDirectories(cache.resolve("plain/.held-3-4"));
        Files.writeString(cache.resolve("plain/.held-3-4/hello.deb"), "a link once");
        new PackageCache(cache, 1L << 30);
        try (var left = Files.list(cache)) {
            assertThat(left.map(f -> f.getFileName().toString()).toList()).containsExactly("plain");
        }
        try (var left = Files.list(cache.resolve("plain"))) {
            assertThat(left.toList()).isEmpty();
        }
    }

    @Test
    void plainFormsGoFirstWhenTheCacheOutgrowsItsBound() throws Exception {
        Path cache = dir.resolve("packages");
        List<Path> debs = new ArrayList<>();
        for (String n : List.of("one", "two", "three")) {
            debs.add(deb(cache, n, 200_000));
        }
        PackageCache unbounded = new PackageCache(cache, 1L << 30);
        for (Path d : debs) {
            unbounded.plain(d);
        }
        long packages = 0;
        for (Path d : debs) {
            packages += Files.size(d);
        }
        // room for the three packages and one plain form: two plain forms go, the oldest first, never one in use
        long plainSize = Files.size(cache.resolve("plain").resolve(debs.get(0).getFileName()));
        Files.setLastModifiedTime(cache.resolve("plain").resolve(debs.get(0).getFileName()), FileTime.fromMillis(1000));
        Files.setLastModifiedTime(cache.resolve("plain").resolve(debs.get(1).getFileName()), FileTime.fromMillis(2000));
        PackageCache bounded = new PackageCache(cache, packages + plainSize + 1000);
        ToolRunner tools = new ToolRunner((level, line) -> { });
        List<PackageCache.Wanted> wanted = List.of(new PackageCache.Wanted("one",
                "http://127.0.0.1:9/never-fetched.deb", Files.size(debs.get(0)),
                debs.get(0).getFileName().toString().replace(".deb", "")));
        Map<String, Path> got = bounded.fetch(wanted, tools);
        assertThat(got).containsEntry("one", debs.get(0));
        assertThat(bounded.hasPlain(debs.get(0))).as("in use: kept").isTrue();
        assertThat(bounded.hasPlain(debs.get(1))).as("the oldest not in use").isFalse();
        assertThat(bounded.hasPlain(debs.get(2))).as("still over the bound after the oldest went").isFalse();
        for (Path d : debs) {
            assertThat(d).as("packages stay while plain forms can go").exists();
        }
    }
}
