package dev.kiln.image.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FreeCoresTest {

    @Test
    void theCoresOtherWorkKeepsBusyAreNotFreeAndThisProcessOwnTimeDoesNotCount() {
        // 2 cores, 100 ticks a core over the window: 200 in all
        assertThat(FreeCores.free(2, 200, 0, 0)).isEqualTo(2);
        assertThat(FreeCores.free(2, 200, 100, 0)).as("one core busy elsewhere").isEqualTo(1);
        assertThat(FreeCores.free(2, 200, 200, 0)).as("never fewer than one").isEqualTo(1);
        assertThat(FreeCores.free(2, 200, 180, 180)).as("busy with this process's own work").isEqualTo(2);
        assertThat(FreeCores.free(8, 800, 300, 0)).isEqualTo(5);
        assertThat(FreeCores.free(8, 0, 0, 0)).as("no time passed: nothing known").isEqualTo(8);
    }

    @Test
    void twoBusyLoopsOfAnotherProcessTakeTwoCores() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        List<Process> loops = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                loops.add(new ProcessBuilder("sh", "-c", "while :; do :; done").start());
            }
            Thread.sleep(300);
            assertThat(FreeCores.now()).isBetween(1, Math.max(1, cores - 1));
        } finally {
            loops.forEach(Process::destroyForcibly);
        }
    }

    @Test
    void thisProcessBusyOnEveryCoreLeavesThemFree() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        List<Thread> spin = new ArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        for (int i = 0; i < cores; i++) {
            Thread t = new Thread(() -> {
                long x = 0;
                while (!stop.get()) {
                    x += System.nanoTime() % 7;
                }
                if (x == 42) {
                    System.out.print("");
                }
            });
            t.setDaemon(true);
            t.start();
            spin.add(t);
        }
        try {
            Thread.sleep(100);
            // counted as other work, they would leave one core; some noise of the machine's is tolerated
            assertThat(FreeCores.now()).as("its own threads are not other work").isGreaterThan(cores / 2);
        } finally {
            stop.set(true);
        }
    }
    @Test
    void toolsThisProcessRanAndWaitedForInTheWindowAreItsOwnWork() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        FreeCores.Window window = FreeCores.start();
        List<Process> tools = new ArrayList<>();
        for (int i = 0; i < cores; i++) { // each core busy for most of the window, by a tool of this process
            tools.add(new ProcessBuilder("timeout", "0.3", "sh", "-c", "while :; do :; done").start());
        }
        for (Process p : tools) {
            p.waitFor();
        }
        // counted as other work, they would leave one core; some noise of the machine's is tolerated
        assertThat(window.free()).as("a tool the build ran is the build's work").isGreaterThan(cores / 2);
    }
}
