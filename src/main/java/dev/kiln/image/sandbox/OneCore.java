package dev.kiln.image.sandbox;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the processes of one long serial tool run on one core while nothing else wants the machine: dpkg configuring
 * a package set starts thousands of short processes (maintainer scripts, and the sed, perl and debconf they run),
 * each handing the CPU to the next. Spread over the cores by the scheduler (a new program is placed on the core
 * least busy at that moment: with the service's threads waking now and then, that is often the other one), each
 * starts with a cold cache. Measured on this kind of machine (2 cores): php8.2-common's postinst with the service
 * idle beside it took 2.29 s of CPU and 1,697 moves between cores, 2.21 s and none on one core; a first build's
 * configure 6.42-6.62 s against 6.18-6.41 s kept on one core once it configured, alternated four times each.
 *
 * <p>From the moment {@code from} says (the configure), the run's first process and every process under it are
 * kept on the core least busy over the last tick (those they start inherit it); the service's own threads are not
 * moved. Not before: dpkg's unpacking gained nothing on one core (99 packages 2.46-2.52 s either way), and two of six
 * first qcow2 builds kept on one core from dpkg's start took 6 s to unpack instead of 3 (not explained). Should other
 * work keep the other cores busy (over half a core on average for {@link #WINDOW_TICKS} ticks, this service's own
 * threads left out), the run gets every core back at once: on a busy machine one core would leave it a share of that
 * core only. Where libc cannot be bound, or the machine has one core, nothing is done.
 */
public final class OneCore implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(OneCore.class);
    static final long TICK_MS = 200;
    /** Ticks over which other work is averaged before the run gets every core back. */
    static final int WINDOW_TICKS = 10;
    /** Cores' worth of other work (averaged over the window) that ends the run's keeping to one core. */
    static final double OTHERS_BUSY = 0.5;
    private static final int MASK_LONGS = 16; // 1,024 CPUs: at least the kernel's mask size, as it requires
    private static final boolean NATIVE = register();

    private final Consumer<String> note;
    private final double othersBusy;
    /** Whether the run has reached the part to keep on one core. */
    private final BooleanSupplier from;
    private final Thread thread;
    /** The CPUs the run had before it was kept on one. */
    private final long[] wide = new long[MASK_LONGS];
    private ProcessHandle root;
    private int core = -1;
    private boolean released;

    private static boolean register() {
        try {
            Native.register(OneCore.class, NativeLibrary.getInstance("c"));
            return true;
        } catch (Throwable e) { // no libc to bind: tools run wherever the scheduler puts them
            log.info("tool runs are not kept on one core: {}", e.toString());
            return false;
        }
    }

    private static native int sched_setaffinity(int pid, long size, long[] mask);

    private static native int sched_getaffinity(int pid, long size, long[] mask);

    OneCore(BooleanSupplier from, Consumer<String> note, double othersBusy) {
        this.from = from;
        this.note = note;
        this.othersBusy = othersBusy;
        this.thread = new Thread(this::run, "one-core");
        thread.setDaemon(true);
    }

    /**
     * A keeper for the run about to start ({@link #attach} gives it the run's process), or null when there is
     * nothing to do: one core, no native binding.
     *
     * @param from whether the run has reached the part to keep on one core (asked every {@link #TICK_MS})
     * @param note receives a line for the compose's log when the run is kept on a core or let go
     */
    public static OneCore prepare(BooleanSupplier from, Consumer<String> note) {
        if (!NATIVE || Runtime.getRuntime().availableProcessors() < 2) {
            return null;
        }
        return new OneCore(from, note, OTHERS_BUSY);
    }

    /** The run's first process (the sandbox's wrapper), just started. Only the first process given counts. */
    public synchronized void attach(ProcessHandle process) {
        if (root == null) {
            root = process;
            thread.start();
        }
    }

    /** Whether processes can be kept on a core here (libc bound). */
    static boolean available() {
        return NATIVE;
    }

    /** The core the run is kept on, -1 before (or when it never was). */
    synchronized int core() {
        return core;
    }

    /** Whether the run was given every core back (other work came). */
    synchronized boolean released() {
        return released;
    }

    private void run() {
        Sample last = Sample.now();
        List<Double> others = new ArrayList<>();
        try {
            while (root.isAlive() && !released()) {
                Thread.sleep(core() < 0 ? TICK_MS / 2 : TICK_MS);
                Sample now = Sample.now();
                if (last == null || now == null) {
                    return; // /proc unreadable: nothing measured, the run stays where it is
                }
                if (core() < 0) {
                    if (from.getAsBoolean()) {
                        synchronized (this) {
                            keep(now.leastBusySince(last, allowed(root.pid())));
                        }
                    }
                } else {
                    others.add(now.othersSince(last, core()));
                    if (others.size() > WINDOW_TICKS) {
                        others.remove(0);
                    }
                    if (others.size() == WINDOW_TICKS
                            && others.stream().mapToDouble(Double::doubleValue).average().orElse(0) > othersBusy) {
                        letGo();
                    }
                }
                last = now;
            }
        } catch (InterruptedException e) {
            // closed: the run is over
        }
    }

    private void keep(int least) {
        int chosen = least >= 0 ? least : coreOf(root.pid());
        if (chosen < 0 || sched_getaffinity((int) root.pid(), MASK_LONGS * 8L, wide) < 0) {
            return;
        }
        core = chosen;
        apply(only(core));
        apply(only(core)); // again: a process forked by one not yet moved inherited the old mask
        note.accept("the install's processes kept on core " + core + " (the least busy)");
    }

    private synchronized void letGo() {
        apply(wide);
        apply(wide);
        released = true;
        note.accept("the install's processes given every core again: other work keeps the other cores busy");
    }

    /** Sets {@code mask} on every thread of the run's first process and of its descendants alive now. */
    private void apply(long[] mask) {
        Stream.concat(Stream.of(root), root.descendants()).forEach(p -> {
            try (var tasks = Files.list(Path.of("/proc", String.valueOf(p.pid()), "task"))) {
                tasks.forEach(t -> sched_setaffinity(Integer.parseInt(t.getFileName().toString()),
                        MASK_LONGS * 8L, mask));
            } catch (IOException | RuntimeException gone) {
                // it ended meanwhile
            }
        });
    }

    private static long[] only(int cpu) {
        long[] mask = new long[MASK_LONGS];
        mask[cpu / 64] = 1L << (cpu % 64);
        return mask;
    }

    /** The CPUs process {@code pid} may run on (every one when unknown). */
    private static boolean[] allowed(long pid) {
        long[] mask = new long[MASK_LONGS];
        boolean[] on = new boolean[MASK_LONGS * 64];
        boolean known = sched_getaffinity((int) pid, MASK_LONGS * 8L, mask) >= 0;
        for (int i = 0; i < on.length; i++) {
            on[i] = !known || (mask[i / 64] >>> (i % 64) & 1) != 0;
        }
        return on;
    }

    /** The CPU process {@code pid} last ran on (field 39 of its stat), -1 if unknown. */
    private static int coreOf(long pid) {
        try {
            int cpu = Integer.parseInt(FreeCores.statFields(Path.of("/proc", String.valueOf(pid), "stat"))[36]);
            return cpu < MASK_LONGS * 64 ? cpu : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Stops watching; the run (over by now) keeps whatever it had. */
    @Override
    public void close() {
        thread.interrupt();
        try {
            if (thread.isAlive()) {
                thread.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Clock ticks per CPU ({@code /proc/stat}) and this JVM's own ({@code /proc/self/stat}) at one moment. */
    record Sample(long[] busy, long[] total, long own) {

        static Sample now() {
            try {
                List<long[]> cpus = new ArrayList<>();
                for (String line : Files.readAllLines(Path.of("/proc/stat"), StandardCharsets.US_ASCII)) {
                    if (!line.startsWith("cpu") || line.startsWith("cpu ")) {
                        continue;
                    }
                    long[] t = FreeCores.ticks(line);
                    cpus.add(new long[] {Integer.parseInt(line.substring(3, line.indexOf(' '))), t[1], t[0]});
                }
                int n = cpus.stream().mapToInt(c -> (int) c[0] + 1).max().orElse(0);
                long[] busy = new long[n];
                long[] total = new long[n];
                for (long[] c : cpus) {
                    busy[(int) c[0]] = c[1];
                    total[(int) c[0]] = c[2];
                }
                String[] s = FreeCores.statFields(Path.of("/proc/self/stat"));
                return new Sample(busy, total, Long.parseLong(s[11]) + Long.parseLong(s[12]));
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }

        /** The allowed CPU busy least since {@code before} (the lowest on a tie); -1 if none. */
        int leastBusySince(Sample before, boolean[] allowed) {
            int best = -1;
            double least = Double.MAX_VALUE;
            for (int c = 0; c < Math.min(Math.min(busy.length, before.busy.length), allowed.length); c++) {
                long dt = total[c] - before.total[c];
                if (!allowed[c] || dt < 0) {
                    continue;
                }
                double share = dt == 0 ? 0 : (busy[c] - before.busy[c]) / (double) dt;
                if (share < least) {
                    least = share;
                    best = c;
                }
            }
            return best;
        }

        /** Cores' worth of work on the CPUs other than {@code core} since {@code before}, this JVM's own left out. */
        double othersSince(Sample before, int core) {
            long busyOthers = 0;
            long totalAll = 0;
            int n = Math.min(busy.length, before.busy.length);
            for (int c = 0; c < n; c++) {
                totalAll += total[c] - before.total[c];
                if (c != core) {
                    busyOthers += busy[c] - before.busy[c];
                }
            }
            if (totalAll <= 0) {
                return 0;
            }
            double perCore = totalAll / (double) n; // the window's length in ticks
            return Math.max(0, busyOthers - (own - before.own)) / perCore;
        }
    }
}
