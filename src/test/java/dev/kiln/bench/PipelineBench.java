package dev.kiln.bench;

import dev.kiln.cli.KilnCli;
import dev.kiln.testing.KilnProcess;
import dev.kiln.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * bench/pipeline: the engine's cost per compose (submit → FINISHED in test mode, no build time) and the time of
 * {@code compose status} over 1,000 composes, on the service as a user runs it ({@code bin/kiln-service}, the packaged
 * jar) with the host's system sources.
 */
public final class PipelineBench {

    /** The CPU time (user + system) the process has used, from /proc. */
    static long cpuMillis(long pid) throws java.io.IOException {
        String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1000 / 100; // utime, stime in clock ticks (100/s)
    }

    /**
     * 50 composes one at a time; the client polls each one's status every 20 ms (each poll is a listing the service
     * computes: polling much faster takes the cores the steps need); the service's own record of the compose
     * (job_created to job_finished) does not depend on the polling.
     */
    static void serial(TestServer server, long pid, String when, String goal) throws Exception {
        List<Long> times = new ArrayList<>();
        List<Long> life = new ArrayList<>();
        long cpu0 = cpuMillis(pid);
        for (int i = 0; i < 50; i++) {
            long t0 = System.nanoTime();
            String uuid = server.start("example-http-server", "tar", 2);
            ClusterBench.await(server, uuid, 20);
            times.add((System.nanoTime() - t0) / 1_000_000);
            var c = server.get("/api/v1/compose/status/" + uuid).path("uuids").path(0);
            life.add(Math.round((c.path("job_finished").asDouble() - c.path("job_created").asDouble()) * 1000));
        }
        long cpu = cpuMillis(pid) - cpu0;
        Collections.sort(times);
        Collections.sort(life);
        System.out.printf("client: submit -> FINISHED seen (polled every 20 ms): median %d ms, min %d ms, max %d ms%n",
                times.get(25), times.get(0), times.get(49));
        System.out.printf("Engine overhead per compose (job_created -> job_finished, test mode, build sleeps 0 s, one at "
                + "a time): median %d ms %s, min %d ms, max %d ms over 50, %s%n", life.get(25), goal, life.get(0),
                life.get(49), when);
        System.out.printf("service CPU time per compose (those 50, the client's polls included): %d ms%n", cpu / 50);
    }

    public static void main(String[] args) throws Exception {
        Path root = Files.createDirectories(Path.of(args[0]));
        int many = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        try (KilnProcess kiln = KilnProcess.asInstalled(root, "kiln.state-dir=" + root.resolve("state"), "kiln.api.tcp-weldr=true", "kiln.api.socket=",
                "kiln.compose.test-build-seconds=0", "kiln.compose.test-concurrency=1")) {
            System.out.printf("server answered /api/status after %d ms%n", kiln.start());
            String[] cmdline = Files.readString(Path.of("/proc", String.valueOf(kiln.pid()), "cmdline")).split("\0");
            System.out.printf("service: %s %s%n", cmdline[0], String.join(" ",
                    java.util.Arrays.stream(cmdline).filter(a -> a.startsWith("-X")).toList()));
            TestServer server = new TestServer(kiln.port, kiln.stateDir());
            for (int i = 0; i < 20; i++) { // warms the index and the JIT (C2 compiles the engine's hot paths)
                ClusterBench.await(server, server.start("example-http-server", "tar", 2));
            }
            serial(server, kiln.pid(), "after 20 to warm up", "(goal <= 100 ms)");

            long t0 = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<String>> submitted = new ArrayList<>();
            for (int i = 0; i < many - 120; i++) {
                submitted.add(pool.submit(() -> server.start("example-http-server", "tar", 2)));
            }
            for (Future<String> f : submitted) {
                ClusterBench.await(server, f.get());
            }
            pool.shutdown();
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%d more composes submitted (4 clients) and finished in %.1f s (%.1f composes/s)%n",
                    many - 120, seconds, (many - 120) / seconds);
            // the same again, now that the JIT has compiled what composes run (C2 used most of a core while the
            // first hundred ran: measured with /proc/<pid>/task/*/stat)
            serial(server, kiln.pid(), "after " + (many - 50) + " composes", "(steady state)");
            int total = server.get("/api/v1/compose/finished").path("finished").size();
            List<Long> status = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                long s0 = System.nanoTime();
                int exit = KilnCli.execute(new PrintStream(out), System.err, root, "--url", "http://127.0.0.1:" + kiln.port,
                        "--token-file", kiln.stateDir().resolve("api-token").toString(), "compose", "status");
                status.add((System.nanoTime() - s0) / 1_000_000);
                if (exit != 0 || out.toString().lines().count() != total) {
                    throw new AssertionError("compose status printed " + out.toString().lines().count() + " lines, not " + total);
                }
            }
            Collections.sort(status);
            System.out.printf("compose status over %d composes (3 HTTP requests, %d lines): median %d ms (goal <= 200 ms), min %d ms%n", total,
                    total, status.get(3), status.get(0));
        }
    }
}
