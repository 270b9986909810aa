package dev.kiln.image.tree;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.image.sandbox.ToolRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache of installed trees keeps the most recently used ones that fit its byte bound, the newest always. */
class TreeCacheTest {

    @TempDir
    Path dir;

    Path tree(String name, int bytes) throws Exception {
        Path t = Files.createDirectories(dir.resolve("src-" + name));
        Files.write(t.resolve("file"), new byte[bytes]);
        return t;
    }

    String[] kept(TreeCache cache) throws Exception {
        try (Stream<Path> all = Files.list(cache.dir())) {
            return all.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted()
                    .toArray(String[]::new);
        }
    }

    @Test
    void theLeastRecentlyUsedGoWhenTheCopiesOutgrowTheBound() throws Exception {
        ToolRunner tools = new ToolRunner((level, line) -> { });
        TreeCache cache = new TreeCache(dir.resolve("cache"), 5, 20 * 1024);
        cache.remember("a", tree("a", 6000), 1, tools);
        Thread.sleep(20);
        cache.remember("b", tree("b", 6000), 2, tools);
        assertThat(kept(cache)).containsExactly("a", "b"); // 8 KiB each (4 KiB blocks): 16 KiB
        Thread.sleep(20);
        Path into = dir.resolve("restored");
        assertThat(cache.restore("a", into, tools)).isEqualTo(1); // a is the most recently used now
        assertThat(into.resolve("file")).hasSize(6000);
        Thread.sleep(20);
        cache.remember("c", tree("c", 6000), 3, tools); // 24 KiB: b, the least recently used, goes
        assertThat(kept(cache)).containsExactly("a", "c");
        Thread.sleep(20);
        cache.remember("huge", tree("huge", 100_000), 4, tools); // alone over the bound: kept, the others go
        assertThat(kept(cache)).containsExactly("huge");
        assertThat(Files.readString(cache.dir().resolve("huge/bytes")).strip()).isEqualTo("102400"); // 25 blocks
    }

    /** Builds of one set at once (build concurrency above 1) each remember it: one copy is kept, none fails. */
    @Test
    void buildsRememberingOneSetAtOnceKeepOneCopy() throws Exception {
        ToolRunner tools = new ToolRunner((level, line) -> { });
        TreeCache cache = new TreeCache(dir.resolve("cache"), 5, 1L << 30);
        Path src = tree("same", 200_000);
        for (int round = 0; round < 5; round++) {
            String key = "k" + round;
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(4);
            java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                for (int i = 0; i < 4; i++) {
                    done.add(pool.submit(() -> {
                        start.await();
                        cache.remember(key, src, 7, tools);
                        return null;
                    }));
                }
                for (java.util.concurrent.Future<?> f : done) {
                    f.get(); // throws if one of them failed
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(cache.restore(key, dir.resolve("out-" + round), tools)).isEqualTo(7);
        }
        assertThat(kept(cache)).containsExactly("k0", "k1", "k2", "k3", "k4");
        try (Stream<Path> all = Files.list(cache.dir())) {
            assertThat(all.filter(p -> p.getFileName().toString().startsWith("."))).as("no copy left aside").isEmpty();
        }
    }
}
