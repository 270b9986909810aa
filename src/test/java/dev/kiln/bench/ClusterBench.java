package dev.kiln.bench;

import dev.kiln.testing.KilnProcess;
import dev.kiln.testing.LocalPostgres;
import dev.kiln.testing.TestServer;
import dev.kiln.testing.WorkerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.UnaryOperator;

/**
 * bench/cluster: test-mode composes (the engine's work, no image) on PostgreSQL through 1, 2 and 4 build workers,
 * in-process (two nodes, the slots split between them) and remote ({@code kiln worker} processes; the nodes with no
 * build slot), against the single-node H2 default, all in one invocation. For each: the engine overhead per
 * compose (submit → FINISHED, one at a time, median) and composes/s (a batch submitted by 4 clients to both nodes).
 */
public final class ClusterBench {

    record Result(String name, long overheadMs, double perSecond) {
    }

    static int sequential = 30;
    static int batch = 200;
    static int buildSeconds = 0;
    static final long IDLE_MS = 10_000;

    public static void main(String[] args) throws Exception {
        Path root = Files.createDirectories(Path.of(args[0]));
        if (args.length > 1) {
            batch = Integer.parseInt(args[1]);
        }
        if (args.length > 2) {
            buildSeconds = Integer.parseInt(args[2]);
        }
        System.out.printf("cluster bench: %d sequential composes, then %d from 4 clients, build step sleeps %d s; "
                + "2 cores here, PostgreSQL and every JVM on this machine%n", sequential, batch, buildSeconds);
        List<Result> results = new ArrayList<>();
        try (KilnProcess h2 = new KilnProcess(Files.createDirectories(root.resolve("h2")),
                "kiln.state-dir=" + root.resolve("h2/state"), "kiln.api.tcp-weldr=true", "kiln.api.socket=",
                "kiln.compose.test-build-seconds=" + buildSeconds, "kiln.compose.test-concurrency=1")) {
            h2.start();
            results.add(measure("single node, H2 (the default), 1 in-process slot", List.of(h2)));
        }
        try (LocalPostgres pg = LocalPostgres.start(Files.createTempDirectory("kiln-bench-pg-"), "kiln")) {
            int round = 0;
            for (int[] slots : new int[][] {{1, 0}, {1, 1}, {2, 2}}) {
                round++;
                List<KilnProcess> nodes = nodes(root.resolve("inprocess-" + round), pg, "kiln" + round, slots);
                try {
                    results.add(measure(String.format("PostgreSQL, 2 nodes, %d in-process slot(s)", slots[0] + slots[1]),
                            nodes));
                } finally {
                    for (KilnProcess n : nodes) {
                        n.close();
                    }
                }
            }
            List<KilnProcess> nodes = nodes(root.resolve("remote"), pg, "kilnremote", new int[] {0, 0});
            List<WorkerProcess> workers = new ArrayList<>();
            try {
                String engines = nodes.get(0).url() + "," + nodes.get(1).url();
                for (int n : new int[] {1, 2, 4}) {
                    while (workers.size() < n) {
                        int i = workers.size() + 1;
                        workers.add(WorkerProcess.start(root.resolve("remote/worker-" + i), "bench-" + i,
                                i % 2 == 1 ? engines : nodes.get(1).url() + "," + nodes.get(0).url(),
                                nodes.get(0).stateDir().resolve("api-token"), UnaryOperator.identity(),
                                "--topics", "build", "--poll-seconds", "1", "--kiln.compose.test-build-seconds="
                                        + buildSeconds));
                    }
                    results.add(measure(String.format("PostgreSQL, 2 nodes, %d remote worker(s)", n), nodes));
                }
            } finally {
                for (WorkerProcess w : workers) {
                    w.close();
                }
                for (KilnProcess n : nodes) {
                    n.close();
                }
            }
        }
        Result base = results.get(0);
        System.out.println();
        System.out.printf("%-52s %14s %12s %10s %10s%n", "configuration", "overhead (ms)", "composes/s", "ratio o/h",
                "ratio c/s");
        for (Result r : results) {
            System.out.printf(Locale.ROOT, "%-52s %14d %12.1f %10.2f %10.2f%n", r.name, r.overheadMs, r.perSecond,
                    (double) r.overheadMs / base.overheadMs, r.perSecond / base.perSecond);
        }
        for (Result r : results.subList(1, results.size())) {
            System.out.printf(Locale.ROOT, "ratio composes/s %s / H2 default = %.2f%n", r.name, r.perSecond / base.perSecond);
        }
    }

    static List<KilnProcess> nodes(Path dir, LocalPostgres pg, String database, int[] slots) throws Exception {
        try (Connection c = DriverManager.getConnection(pg.url("kiln"), LocalPostgres.USER, pg.password())) {
            if (!database.equals("kiln")) {
                c.createStatement().execute("CREATE DATABASE " + database);
            }
        }
        List<KilnProcess> nodes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Path root = Files.createDirectories(dir.resolve("node-" + i));
            nodes.add(new KilnProcess(root, "kiln.state-dir=" + dir.resolve("shared"), "kiln.node-dir=" + root.resolve("node"),
                    "kiln.api.tcp-weldr=true", "kiln.api.socket=", "kiln.engine.database-url=" + pg.url(database),
                    "kiln.engine.database-user=" + LocalPostgres.USER, "kiln.engine.database-password=" + pg.password(),
                    "kiln.compose.test-build-seconds=" + buildSeconds, "kiln.compose.build-concurrency=" + slots[i],
                    // test composes have threads of their own: as many as the slots, so they stand for builds here
                    "kiln.compose.test-concurrency=" + slots[i]));
        }
        statsOf = pg;
        statsDatabase = database;
        nodes.get(0).start(); // the schema is made once either way; started one after the other here for speed
        nodes.get(1).start();
        return nodes;
    }

    /** The database's counters (pg_stat_database) and size, to say what one compose costs it. */
    record DbStats(long commits, long inserted, long updated, long deleted, long fetched, long bytes) {
        static DbStats of(LocalPostgres pg, String database) throws Exception {
            Thread.sleep(1500); // the server publishes its counters about once a second
            try (Connection c = DriverManager.getConnection(pg.url(database), LocalPostgres.USER, pg.password());
                    var rs = c.createStatement().executeQuery("SELECT xact_commit, tup_inserted, tup_updated, "
                            + "tup_deleted, tup_fetched, pg_database_size(datname) FROM pg_stat_database WHERE datname = '"
                            + database + "'")) {
                rs.next();
                return new DbStats(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5),
                        rs.getLong(6));
            }
        }

        String perCompose(DbStats before, int n) {
            return String.format(Locale.ROOT, "per compose: %.1f commits, %.1f rows inserted, %.1f updated, %.1f deleted, "
                    + "%.0f fetched, %.1f KiB of database", (commits - before.commits) / (double) n,
                    (inserted - before.inserted) / (double) n, (updated - before.updated) / (double) n,
                    (deleted - before.deleted) / (double) n, (fetched - before.fetched) / (double) n,
                    (bytes - before.bytes) / 1024.0 / n);
        }
    }

    static LocalPostgres statsOf;
    static String statsDatabase;

    static Result measure(String name, List<KilnProcess> nodes) throws Exception {
        List<TestServer> clients = nodes.stream().map(KilnProcess::client).toList();
        clients.get(0).start("example-http-server", "tar", 2); // warms the index and the JIT
        await(clients.get(0), clients.get(0).start("example-http-server", "tar", 2));
        List<Long> times = new ArrayList<>();
        for (int i = 0; i < sequential; i++) {
            TestServer c = clients.get(i % clients.size());
            long t0 = System.nanoTime();
            await(c, c.start("example-http-server", "tar", 2));
            times.add((System.nanoTime() - t0) / 1_000_000 - buildSeconds * 1000L);
        }
        Collections.sort(times);
        DbStats idleFrom = statsOf == null ? null : DbStats.of(statsOf, statsDatabase);
        Thread.sleep(IDLE_MS); // what the nodes and workers cost the database with nothing to do (their polls)
        DbStats before = statsOf == null ? null : DbStats.of(statsOf, statsDatabase);
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<String>> submitted = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            TestServer c = clients.get(i % clients.size());
            submitted.add(pool.submit(() -> c.start("example-http-server", "tar", 2)));
        }
        for (int i = 0; i < submitted.size(); i++) {
            await(clients.get((i + 1) % clients.size()), submitted.get(i).get(), 100); // few status queries of ours
        }
        pool.shutdown();
        double seconds = (System.nanoTime() - t0) / 1e9;
        double perSecond = batch / seconds;
        if (before != null) {
            DbStats after = DbStats.of(statsOf, statsDatabase);
            double idleCommits = (before.commits - idleFrom.commits) / ((IDLE_MS + 1500) / 1000.0);
            System.out.printf(Locale.ROOT, "%s: database idle %.0f commits/s (the workers' polls); %s, of which "
                    + "%.1f commits the idle polls'%n", name, idleCommits, after.perCompose(before, batch),
                    idleCommits * (seconds + 1.5) / batch);
        }
        Result r = new Result(name, times.get(times.size() / 2), perSecond);
        System.out.printf(Locale.ROOT, "%s: overhead median %d ms (min %d, max %d), %.1f composes/s%n", name,
                r.overheadMs, times.get(0), times.get(times.size() - 1), perSecond);
        return r;
    }

    /** Waits for a test-mode compose to finish, polling every 5 ms (what the benches time). */
    static void await(TestServer server, String uuid) throws InterruptedException {
        await(server, uuid, 5);
    }

    static void await(TestServer server, String uuid, long pollMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 600_000;
        while (System.currentTimeMillis() < deadline) {
            String s = server.status(uuid);
            if (s.equals("FINISHED")) {
                return;
            }
            if (s.equals("FAILED")) {
                throw new AssertionError("compose " + uuid + " failed");
            }
            Thread.sleep(pollMs);
        }
        throw new AssertionError("compose " + uuid + " did not finish");
    }
}
