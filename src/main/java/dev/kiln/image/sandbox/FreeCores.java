package dev.kiln.image.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How many cores a build's thread pools may use: the machine's cores less those other work keeps busy, measured
 * over a short window from {@code /proc/stat} with this JVM's own time and its tools' that ended in the window
 * ({@code /proc/self/stat}) left out. On a
 * busy machine a pool as large as the machine would only multiply the work competing for the same cores (each of
 * its threads taking turns with the other load's); sized to what is free, the build takes the room there is. Always
 * at least 1; the machine's size where {@code /proc} cannot be read.
 */
public final class FreeCores {

    /** The window a measurement takes: long enough for a few clock ticks per core (100 a second). */
    static final long WINDOW_MS = 150;

    private FreeCores() {
    }

    /** The cores free now (measured over {@link #WINDOW_MS}): between 1 and the machine's cores. */
    public static int now() throws InterruptedException {
        return start().free();
    }

    /**
     * A measurement that starts now and ends at {@link Window#free}, so that it can run while the build does
     * something else of its own (fetching): it then costs no time.
     */
    public static Window start() {
        return new Window();
    }

    /** A measurement under way. */
    public static final class Window {
        private final long startedNs = System.nanoTime();
        private final long[] before = sampleOrNull();

        private Window() {
        }

        /** The cores free over the window (at least {@link #WINDOW_MS}: waits for the rest if need be). */
        public int free() throws InterruptedException {
            int cores = Runtime.getRuntime().availableProcessors();
            long left = WINDOW_MS - (System.nanoTime() - startedNs) / 1_000_000;
            if (left > 0) {
                Thread.sleep(left);
            }
            long[] after = sampleOrNull();
            if (before == null || after == null) {
                return cores;
            }
            return FreeCores.free(cores, after[0] - before[0], after[1] - before[1], after[2] - before[2]);
        }
    }

    private static long[] sampleOrNull() {
        try {
            return sample();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The cores free, from one window's clock ticks: {@code total} (all cores, busy or idle), {@code busy} (all
     * cores' non-idle time) and {@code own} (this process's user and system time).
     */
    static int free(int cores, long total, long busy, long own) {
        if (total <= 0) {
            return cores;
        }
        double others = Math.max(0, busy - own) * (double) cores / total; // cores the rest of the machine kept busy
        return (int) Math.max(1, Math.min(cores, Math.round(cores - others)));
    }

    /** {total, busy, own} clock ticks so far. */
    private static long[] sample() throws IOException {
        long[] cpu = ticks(Files.readAllLines(Path.of("/proc/stat"), StandardCharsets.US_ASCII).get(0));
        String[] s = statFields(Path.of("/proc/self/stat"));
        // utime, stime, and the children's reaped meanwhile (fields 14 to 17): a tool the build ran in the window
        // (a tree copied) is the build's own work, not other work's
        long own = Long.parseLong(s[11]) + Long.parseLong(s[12]) + Long.parseLong(s[13]) + Long.parseLong(s[14]);
        return new long[] {cpu[0], cpu[1], own};
    }

    /** {total, busy} clock ticks of one {@code cpu} or {@code cpuN} line of {@code /proc/stat}. */
    static long[] ticks(String line) {
        String[] f = line.trim().split("\\s+"); // cpu user nice system idle iowait irq softirq steal guest guest_nice
        long total = 0;
        for (int i = 1; i < Math.min(f.length, 9); i++) { // guest time is counted in user time already
            total += Long.parseLong(f[i]);
        }
        long idle = Long.parseLong(f[4]) + (f.length > 5 ? Long.parseLong(f[5]) : 0);
        return new long[] {total, total - idle};
    }

    /** The fields of a {@code /proc/<pid>/stat} from the 3rd (state) on: index 0 is field 3. */
    static String[] statFields(Path stat) throws IOException {
        String text = Files.readString(stat, StandardCharsets.US_ASCII);
        return text.substring(text.lastIndexOf(')') + 2).split(" ");
    }
}
