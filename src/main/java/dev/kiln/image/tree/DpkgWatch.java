package dev.kiln.image.tree;

import dev.kiln.store.Progress;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * Follows the tree's {@code /var/log/dpkg.log} while dpkg installs a package set and reports its phases: each
 * {@code status unpacked P} counts P as unpacked, each {@code status installed P} as configured (distinct packages,
 * over every dpkg run of the build), so that the build shows {@code unpack 40/164} and {@code configure 120/164
 * (php8.2-common)}. dpkg is not changed for it; it writes that log as it always does. Only the lines written after
 * the watch began are read (a tree from a cached base has the base's lines already).
 */
final class DpkgWatch implements AutoCloseable {

    private final Path log;
    private final Progress progress;
    private final Set<String> counted;
    private final long total;
    private final Set<String> unpacked = new HashSet<>();
    private final Set<String> configured = new HashSet<>();
    private final Set<String> reached = new HashSet<>();
    private int configures;
    private final Thread thread;
    private long offset = -1;
    private volatile boolean stop;

    /** @param counted the packages this install brings (a tree from a cached base has the base's already) */
    DpkgWatch(Path tree, Progress progress, Collection<String> counted) {
        this.log = tree.resolve("var/log/dpkg.log");
        this.progress = progress;
        this.counted = Set.copyOf(counted);
        this.total = this.counted.size();
        this.offset = sizeNow();
        this.thread = new Thread(this::follow, "dpkg-watch");
        thread.setDaemon(true);
        thread.start();
    }

    /** Whether dpkg has begun to install {@code name} (as far as its log says now). */
    synchronized boolean reached(String name) {
        read();
        return reached.contains(name);
    }

    /** How many times dpkg began to configure a package counted (as far as its log says now). */
    synchronized int configures() {
        read();
        return configures;
    }

    /** Whether every package counted is unpacked (as far as dpkg's log says now). */
    synchronized boolean allUnpacked() {
        read();
        return unpacked.size() == total;
    }

    /** A package counted as unpacked without dpkg (the Essential set, unpacked by Kiln before dpkg runs). */
    synchronized void unpackedBefore(String name) {
        if (unpacked.add(name)) {
            progress.phase("unpack", total, "packages", unpacked.size(), name);
        }
    }

    private long sizeNow() {
        try {
            return Files.isRegularFile(log) ? Files.size(log) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private void follow() {
        while (!stop) {
            read();
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Reads what dpkg added since the last read, whole lines only. */
    synchronized void read() {
        if (!Files.isRegularFile(log)) {
            return;
        }
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long size = f.length();
            if (size < offset) {
                offset = 0; // written anew
            }
            if (size == offset) {
                return;
            }
            byte[] data = new byte[(int) Math.min(size - offset, 1 << 20)];
            f.seek(offset);
            f.readFully(data);
            int end = data.length;
            while (end > 0 && data[end - 1] != '\n') {
                end--;
            }
            offset += end;
            for (String line : new String(data, 0, end, StandardCharsets.UTF_8).split("\n")) {
                line(line);
            }
        } catch (IOException e) {
            // the log is only for display: a line not read costs a count, never the build
        }
    }

    /** One line of dpkg's log: {@code <date> <time> status <state> <package>:<arch> <version>}. */
    private void line(String line) {
        String[] w = line.split(" ");
        if (w.length >= 4 && w[2].equals("install")) { // {@code <date> <time> install <package>:<arch> …}
            reached.add(w[3].contains(":") ? w[3].substring(0, w[3].indexOf(':')) : w[3]);
        }
        if (w.length >= 4 && w[2].equals("configure") // {@code <date> <time> configure <package>:<arch> …}
                && counted.contains(w[3].contains(":") ? w[3].substring(0, w[3].indexOf(':')) : w[3])) {
            configures++;
        }
        if (w.length < 5 || !w[2].equals("status")) {
            return;
        }
        String name = w[4].contains(":") ? w[4].substring(0, w[4].indexOf(':')) : w[4];
        if (!counted.contains(name)) {
            return; // a package of the base, its triggers run again
        }
        if (w[3].equals("unpacked") && unpacked.add(name)) {
            progress.phase("unpack", total, "packages", unpacked.size(), name);
        } else if (w[3].equals("installed") && configured.add(name)) {
            progress.phase("configure", total, "packages", configured.size(), name);
        }
    }

    @Override
    public void close() {
        stop = true;
        thread.interrupt(); // out of its sleep now: the build waits for this join (up to 200 ms a sleep otherwise)
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        read(); // the last lines
    }
}
