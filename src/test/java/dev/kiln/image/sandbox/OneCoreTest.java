package dev.kiln.image.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class OneCoreTest {

    private static final int CORES = Runtime.getRuntime().availableProcessors();

    /** A run that keeps starting short processes, as dpkg's configure does. */
    private static Process forking() throws Exception {
        return new ProcessBuilder("sh", "-c", "while :; do sh -c 'sleep 0.2'; done").start();
    }

    /** The CPUs a process may run on ({@code Cpus_allowed_list} of its status); null if it ended. */
    private static String allowed(ProcessHandle p) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(p.pid()), "status"))) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (Exception gone) {
            // ended
        }
        return null;
    }

    private static Set<String> allowedOfDescendants(Process run) {
        Set<String> seen = new java.util.TreeSet<>();
        java.util.stream.Stream.concat(java.util.stream.Stream.of(run.toHandle()), run.toHandle().descendants())
                .map(OneCoreTest::allowed).filter(a -> a != null).forEach(seen::add);
        return seen;
    }

    /** Waits until {@code one} keeps its run on a core (up to 3 s); answers the core. */
    private static int kept(OneCore one) throws InterruptedException {
        for (int i = 0; i < 60 && one.core() < 0; i++) {
            Thread.sleep(50);
        }
        return one.core();
    }

    @Test
    void theRunAndTheProcessesItStartsAreKeptOnOneCoreFromTheMomentAsked() throws Exception {
        assumeTrue(OneCore.available() && CORES >= 2, "libc bound, two cores or more");
        String every = allowed(ProcessHandle.current());
        AtomicBoolean now = new AtomicBoolean();
        List<String> notes = new ArrayList<>();
        Process run = forking();
        OneCore one = new OneCore(now::get, notes::add, Double.MAX_VALUE); // never let go, whatever else runs
        try {
            one.attach(run.toHandle());
            Thread.sleep(3 * OneCore.TICK_MS);
            assertThat(one.core()).as("not before it is asked").isEqualTo(-1);
            assertThat(allowedOfDescendants(run)).containsOnly(every);
            now.set(true);
            assertThat(kept(one)).isBetween(0, CORES - 1);
            assertThat(allowed(run.toHandle())).isEqualTo(String.valueOf(one.core()));
            Thread.sleep(500); // its shell started processes since: they inherited the one core
            assertThat(run.toHandle().descendants().count()).as("the run starts processes").isPositive();
            assertThat(allowedOfDescendants(run)).containsOnly(String.valueOf(one.core()));
            assertThat(notes).anyMatch(n -> n.contains("kept on core " + one.core()));
            assertThat(allowed(ProcessHandle.current())).as("the service itself is not moved").isEqualTo(every);
        } finally {
            run.descendants().forEach(ProcessHandle::destroyForcibly);
            run.destroyForcibly();
            one.close();
        }
    }

    @Test
    void theCoreChosenIsNotOneOtherWorkKeepsBusy() throws Exception {
        assumeTrue(OneCore.available() && CORES >= 2, "libc bound, two cores or more");
        int busy = CORES - 1;
        Process loop = new ProcessBuilder("taskset", "-c", String.valueOf(busy), "sh", "-c", "while :; do :; done")
                .start();
        Process run = null;
        OneCore one = OneCore.prepare(() -> true, line -> { });
        try {
            Thread.sleep(200);
            run = forking();
            one.attach(run.toHandle());
            assertThat(kept(one)).isBetween(0, CORES - 1).isNotEqualTo(busy);
        } finally {
            loop.destroyForcibly();
            if (run != null) {
                run.descendants().forEach(ProcessHandle::destroyForcibly);
                run.destroyForcibly();
            }
            one.close();
        }
    }

    @Test
    void otherWorkOnTheOtherCoresGivesTheRunEveryCoreBack() throws Exception {
        assumeTrue(OneCore.available() && CORES >= 2, "libc bound, two cores or more");
        String every = allowed(ProcessHandle.current());
        List<String> notes = new ArrayList<>();
        Process run = forking();
        List<Process> loops = new ArrayList<>();
        OneCore one = OneCore.prepare(() -> true, notes::add);
        try {
            one.attach(run.toHandle());
            int core = kept(one);
            assertThat(core).isBetween(0, CORES - 1);
            for (int c = 0; c < CORES; c++) { // every other core busy with another process's loop
                if (c != core) {
                    loops.add(new ProcessBuilder("taskset", "-c", String.valueOf(c), "sh", "-c", "while :; do :; done")
                            .start());
                }
            }
            long deadline = System.nanoTime() + (OneCore.WINDOW_TICKS + 10) * OneCore.TICK_MS * 1_000_000L;
            while (!one.released() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(one.released()).as("let go within the window").isTrue();
            Thread.sleep(300);
            assertThat(allowedOfDescendants(run)).containsOnly(every);
            assertThat(notes).anyMatch(n -> n.contains("every core again"));
        } finally {
            loops.forEach(Process::destroyForcibly);
            run.descendants().forEach(ProcessHandle::destroyForcibly);
            run.destroyForcibly();
            one.close();
        }
    }
}
