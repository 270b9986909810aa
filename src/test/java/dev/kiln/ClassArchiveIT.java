package dev.kiln;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.store.FileTrees;
import dev.kiln.testing.SocketApi;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The packaged service started the documented way ({@code bin/kiln-service}) on the packaged jar: the first start
 * makes the class archive in the background (JDK 25's AOT cache, or JDK 17's CDS archive where no JDK 25 is), and
 * the next start runs from it and answers. Run after {@code package} (failsafe), on a copy of the jar so that the
 * archive is the test's own.
 */
class ClassArchiveIT {

    private Process service;
    private Path base;

    @AfterEach
    void cleanUp() throws Exception {
        stop();
        if (base != null) {
            FileTrees.delete(base);
        }
    }

    private void stop() throws InterruptedException {
        if (service != null) {
            service.destroy();
            service.waitFor();
            service = null;
        }
    }

    @Test
    void theSecondStartRunsFromTheArchiveTheFirstMade() throws Exception {
        base = Files.createTempDirectory("kiln-archive-");
        Path jar = base.resolve("kiln.jar");
        Files.copy(Path.of("target/kiln.jar"), jar);
        Path cds = base.resolve("kiln-cds");

        Path log1 = base.resolve("first.log");
        service = start(base, jar, log1);
        awaitStatus(base, log1);
        long deadline = System.currentTimeMillis() + 600_000;
        while (!Files.isDirectory(cds) && System.currentTimeMillis() < deadline) {
            Path making = base.resolve("kiln-cds.making");
            if (Files.exists(making.resolve("failed"))) {
                throw new AssertionError("the class archive failed: " + logs(making));
            }
            Thread.sleep(500);
        }
        assertThat(cds).as("archive made within ten minutes").isDirectory();
        stop();

        Path log2 = base.resolve("second.log");
        service = start(base, jar, log2);
        awaitStatus(base, log2);
        String cmdline = Files.readString(Path.of("/proc", String.valueOf(service.pid()), "cmdline")).replace('\0', ' ');
        assertThat(cmdline).as("runs from the archive").containsAnyOf("-XX:AOTCache=" + cds, "-XX:SharedArchiveFile=" + cds);
        assertThat(Files.readString(log2)).doesNotContain("sealing violation");
        // the copy in the archive's directory is unsealed (JDK 25 cannot start from a cache with a sealed package's
        // classes); the jar the service is installed as is not touched
        try (Stream<Path> libs = Files.list(cds.resolve("lib"))) {
            for (Path lib : libs.filter(p -> p.toString().endsWith(".jar")).toList()) {
                try (JarFile j = new JarFile(lib.toFile())) {
                    assertThat(j.getManifest() == null ? null : j.getManifest().getMainAttributes().getValue("Sealed"))
                            .as(lib.toString()).isNull();
                }
            }
        }
        assertThat(Files.mismatch(jar, Path.of("target/kiln.jar"))).isEqualTo(-1L);
    }

    private static Process start(Path base, Path jar, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("sh", "bin/kiln-service", "--kiln.state-dir=" + base.resolve("state"),
                "--kiln.api.socket=" + base.resolve("api.socket"), "--kiln.api.port=0", "--kiln.compose.workers=false");
        pb.environment().put("KILN_JAR", jar.toString());
        pb.environment().remove("KILN_CDS");
        pb.environment().remove("KILN_JAVA_OPTS");
        return pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private void awaitStatus(Path base, Path log) throws Exception {
        Path socket = base.resolve("api.socket");
        long deadline = System.currentTimeMillis() + 180_000;
        while (System.currentTimeMillis() < deadline) {
            assertThat(service.isAlive()).as("service running: %s", Files.readString(log)).isTrue();
            if (Files.exists(socket)) {
                try {
                    if (new SocketApi(socket).get("/api/status").path("api").asText().equals("1")) {
                        return;
                    }
                } catch (IOException notYet) {
                    // not answering yet
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the service did not answer: " + Files.readString(log));
    }

    private static String logs(Path dir) throws IOException {
        StringBuilder out = new StringBuilder();
        for (String name : List.of("extract.log", "unseal.log", "training.log", "dump.log", "check.log")) {
            Path p = dir.resolve(name);
            if (Files.exists(p)) {
                String text = Files.readString(p, StandardCharsets.UTF_8);
                out.append("\n--- ").append(name).append('\n').append(text, Math.max(0, text.length() - 3000), text.length());
            }
        }
        return out.toString();
    }
}
