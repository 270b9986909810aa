package dev.kiln.image;

import dev.kiln.cli.KilnCli;
import dev.kiln.image.tree.TreePlaces;
import dev.kiln.source.Distros;
import dev.kiln.store.FileTrees;
import dev.kiln.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.util.FileSystemUtils;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The service run by an ordinary user ({@code bin/kiln-service}, rootless): a system account made for the test,
 * given a subordinate id range, starts the service from a copy of the test's class path; the image it builds over
 * its unix socket is byte for byte the one the service running as root (this class's own, in this JVM) builds
 * from the same blueprint, and on the host the build's files belong to the account's range, never to root.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "kiln.state-dir=" + RootlessServiceTest.ROOT + "/state", "kiln.api.tcp-weldr=true", "kiln.api.socket=",
        "kiln.compose.retries=1"})
class RootlessServiceTest {

    static final String ROOT = "target/it/rootless";
    static final String USER = "kiln-rootless";
    /** A hashed password: a plain one would be hashed with a new salt by each service. */
    static final String BLUEPRINT = """
            name = "rootless"
            description = "built by an ordinary user"
            version = "0.0.1"

            [customizations]
            hostname = "rootless-host"

            [[customizations.user]]
            name = "alice"
            password = "$6$kilnrootless$tMo2osr2WEAr7WeYseAnNOqOhvlDe2CMz3p9pGehsoI.UAL4vvTJBXZe0zTxuo7Rm0T2animNlcElZFnO890g/"
            groups = ["users"]
            """;

    static {
        FileSystemUtils.deleteRecursively(Path.of(ROOT).toFile());
    }

    @LocalServerPort
    int port;

    static Path home;

    @AfterAll
    static void cleanUp() throws IOException {
        for (Path state : List.of(Path.of(ROOT, "state").toAbsolutePath().normalize(),
                home == null ? Path.of(ROOT, "none") : home.resolve("state"))) {
            for (String name : List.of("trees", "bases")) {
                FileTrees.delete(TreePlaces.tmpfsDir(state, name));
            }
        }
        if (home != null) {
            FileTrees.delete(home.getParent());
        }
    }

    @Test
    void anOrdinaryUserBuildsTheSameImageAsRootWithNoIdOfRootOnTheHost() throws Exception {
        long[] account = account();
        long uid = account[0];
        long subuid = account[1];
        // the service as root: this test's own
        TestServer server = new TestServer(port, Path.of(ROOT, "state"));
        assertThat(server.call("POST", "/api/v1/blueprints/new", "text/x-toml", BLUEPRINT).statusCode()).isEqualTo(200);
        String uuid = server.start("rootless", "tar", 0);
        assertThat(server.await(uuid, 900_000, "FINISHED", "FAILED")).isEqualTo("FINISHED");
        Path asRoot = Path.of(ROOT, "state/results", uuid, "root.tar.xz");

        // the service as the account, from a class path it can read, on a state directory of its own
        Path base = Files.createTempDirectory("kiln-rootless-");
        home = base.resolve("home");
        Files.createDirectories(home);
        String classPath = copyClassPath(base.resolve("cp"));
        Path script = base.resolve("kiln-service");
        Files.copy(Path.of("bin/kiln-service"), script);
        run("chmod", "-R", "a+rX", base.toString());
        run("chown", "-R", uid + ":" + account[2], home.toString());
        Path state = home.resolve("state");
        Path socket = state.resolve("api.socket");
        int tcp;
        try (ServerSocket s = new ServerSocket(0)) {
            tcp = s.getLocalPort();
        }
        Path log = base.resolve("service.log");
        Process service = new ProcessBuilder("setpriv", "--reuid=" + USER, "--regid=" + USER, "--init-groups", "--",
                "env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home,
                "KILN_CLASSPATH=" + classPath, "KILN_JAVA=" + ProcessHandle.current().info().command().orElse("java"),
                "KILN_JAVA_OPTS=-XX:TieredStopAtLevel=1 -Xmx512m", "KILN_STATEDIR=" + state,
                "KILN_API_PORT=" + tcp, "KILN_COMPOSE_RETRIES=1", "sh", script.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            awaitSocket(service, socket, log);
            // the service runs as the account (the same process all along: every step of the script execs)
            assertThat(Files.readAllLines(Path.of("/proc", String.valueOf(service.pid()), "status")).stream()
                    .filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow().split("\\s+")[1])
                    .isEqualTo(String.valueOf(uid));
            Path toml = base.resolve("rootless.toml");
            Files.writeString(toml, BLUEPRINT);
            assertThat(cli(socket, "blueprints", "push", toml.toString())).startsWith("0 ");
            String out = cli(socket, "compose", "start", "rootless", "tar", "--wait");
            assertThat(out).as(Files.readString(log)).startsWith("0 ").contains(" FINISHED");
            String theirs = out.split("\\s+")[2];
            Path results = state.resolve("results").resolve(theirs);
            Path image = results.resolve("root.tar.xz");
            assertThat(sha256(image)).as("rootless image is the root-built one").isEqualTo(sha256(asRoot));
            assertThat(owner(image)).isEqualTo(uid);
            assertThat(owner(results.resolve("logs/combined.log"))).isEqualTo(uid);
            // the installed tree, cached on tmpfs (the host distribution's shelf): root inside is the account's first
            // subordinate id outside
            Path trees = TreePlaces.tmpfsDir(state, "trees").resolve(Distros.host());
            try (Stream<Path> cached = Files.list(trees)) {
                Path tree = cached.filter(p -> Files.isDirectory(p.resolve("tree"))).findFirst().orElseThrow()
                        .resolve("tree");
                assertThat(owner(tree.resolve("etc/passwd"))).isEqualTo(subuid);
                assertThat(Files.getAttribute(tree.resolve("etc/shadow"), "unix:gid", LinkOption.NOFOLLOW_LINKS))
                        .isEqualTo((int) (account[3] + 42)); // group shadow
                try (Stream<Path> all = Files.walk(tree)) {
                    assertThat(all.filter(p -> {
                        try {
                            long o = (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                            return o == 0 || o == uid;
                        } catch (IOException e) {
                            return true;
                        }
                    }).toList()).as("files of the host's root or of the account in the tree").isEmpty();
                }
            }
        } finally {
            service.destroy();
            if (!service.waitFor(30, TimeUnit.SECONDS)) {
                service.destroyForcibly();
            }
        }
        // stopped by SIGTERM: its caches of trees and bases on tmpfs (memory) went with it
        String mine = TreePlaces.tmpfsDir(state, "trees").getFileName().toString().replaceAll("trees$", "");
        try (Stream<Path> shm = Files.list(Path.of("/dev/shm"))) {
            assertThat(shm.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(mine)).toList())
                    .as("/dev/shm after the service stopped").isEmpty();
        }
    }

    /**
     * The test's ordinary account: made when missing, with a range of 65,536 subordinate ids after every range
     * the machine has given. Answers its uid, first subordinate uid, gid and first subordinate gid.
     */
    static long[] account() throws IOException, InterruptedException {
        if (run("id", "-u", USER).exit() != 0) {
            assertThat(run("useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    USER).exit()).isZero();
        }
        long subuid = rangeOf(Path.of("/etc/subuid"));
        long subgid = rangeOf(Path.of("/etc/subgid"));
        if (subuid < 0 || subgid < 0) {
            long start = Math.max(next(Path.of("/etc/subuid")), next(Path.of("/etc/subgid")));
            String range = start + "-" + (start + 65_535);
            assertThat(run("usermod", "--add-subuids", range, "--add-subgids", range, USER).exit()).isZero();
            subuid = rangeOf(Path.of("/etc/subuid"));
            subgid = rangeOf(Path.of("/etc/subgid"));
        }
        long uid = Long.parseLong(run("id", "-u", USER).out().strip());
        long gid = Long.parseLong(run("id", "-g", USER).out().strip());
        return new long[] {uid, subuid, gid, subgid};
    }

    private static long rangeOf(Path file) throws IOException {
        for (String line : Files.readAllLines(file)) {
            String[] f = line.split(":");
            if (f.length == 3 && f[0].equals(USER) && Long.parseLong(f[2]) >= 65_536) {
                return Long.parseLong(f[1]);
            }
        }
        return -1;
    }

    /** The first id after every range of the file (and after root's usual 1879048192 + 65536). */
    private static long next(Path file) throws IOException {
        long next = 1_879_048_192L + 65_536;
        for (String line : Files.readAllLines(file)) {
            String[] f = line.split(":");
            if (f.length == 3) {
                next = Math.max(next, Long.parseLong(f[1]) + Long.parseLong(f[2]));
            }
        }
        return next;
    }

    /** The class path of this JVM copied where the account can read it (directories and jars alike). */
    private static String copyClassPath(Path dir) throws IOException {
        List<String> entries = new ArrayList<>();
        int i = 0;
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path from = Path.of(e);
            if (!Files.exists(from)) {
                continue;
            }
            Path to = dir.resolve(i++ + "-" + from.getFileName());
            if (Files.isDirectory(from)) {
                FileSystemUtils.copyRecursively(from, to);
            } else {
                Files.createDirectories(dir);
                Files.copy(from, to);
            }
            entries.add(to.toString());
        }
        return String.join(File.pathSeparator, entries);
    }

    private static void awaitSocket(Process service, Path socket, Path log) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            assertThat(service.isAlive()).as("service running: %s", Files.readString(log)).isTrue();
            if (Files.exists(socket) && cli(socket, "status", "show").startsWith("0 ")) {
                return;
            }
            Thread.sleep(300);
        }
        throw new AssertionError("the rootless service did not answer: " + Files.readString(log));
    }

    /** Runs the kiln CLI against {@code socket}: "EXIT OUT ERR". */
    private static String cli(Path socket, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> all = new ArrayList<>(List.of("-s", socket.toString()));
        all.addAll(List.of(args));
        int exit = KilnCli.execute(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Path.of("."), all.toArray(String[]::new));
        return exit + " " + out.toString(StandardCharsets.UTF_8) + " " + err.toString(StandardCharsets.UTF_8);
    }

    private static long owner(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    private static String sha256(Path p) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(p)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    record Ran(int exit, String out) {
    }

    private static Ran run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Ran(p.waitFor(), out);
    }
}
