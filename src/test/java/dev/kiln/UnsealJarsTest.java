package dev.kiln;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnsealJarsTest {

    @TempDir
    Path dir;

    @Test
    void aSealedJarLosesItsSealsAndNothingElse() throws Exception {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.SEALED, "true");
        m.getMainAttributes().putValue("Multi-Release", "true");
        m.getEntries().computeIfAbsent("org/example/", k -> new Attributes()).put(Attributes.Name.SEALED, "true");
        Path sealed = dir.resolve("sealed.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(sealed), m)) {
            out.putNextEntry(new JarEntry("org/example/"));
            out.closeEntry();
            out.putNextEntry(new JarEntry("org/example/A.class"));
            out.write("class bytes".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
            out.putNextEntry(new JarEntry("META-INF/versions/9/org/example/A.class"));
            out.write("version 9".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        Path plain = dir.resolve("plain.jar");
        try (OutputStream out = new JarOutputStream(Files.newOutputStream(plain), new Manifest())) {
            out.flush();
        }
        byte[] plainBefore = Files.readAllBytes(plain);

        UnsealJars.main(new String[] {dir.toString()});

        try (JarFile j = new JarFile(sealed.toFile(), false)) {
            Manifest after = j.getManifest();
            assertThat(after.getMainAttributes().getValue("Sealed")).isNull();
            assertThat(after.getMainAttributes().getValue("Multi-Release")).isEqualTo("true");
            assertThat(after.getAttributes("org/example/") == null
                    || after.getAttributes("org/example/").getValue("Sealed") == null).isTrue();
            assertThat(new String(j.getInputStream(j.getEntry("org/example/A.class")).readAllBytes(),
                    StandardCharsets.UTF_8)).isEqualTo("class bytes");
            assertThat(new String(j.getInputStream(j.getEntry("META-INF/versions/9/org/example/A.class"))
                    .readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("version 9");
            assertThat(j.stream().map(JarEntry::getName).filter(n -> n.equalsIgnoreCase(JarFile.MANIFEST_NAME)))
                    .hasSize(1);
        }
        assertThat(Files.readAllBytes(plain)).as("a jar without seals is not rewritten").isEqualTo(plainBefore);
        try (var left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("sealed.jar", "plain.jar");
        }
    }
}
