package dev.kiln.worker;

import dev.kiln.store.Progress;
import dev.kiln.store.ResultsDir;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.slf4j.LoggerFactory;

/**
 * Sends what a step adds to its local {@code logs/combined.log} to the node's log of the compose, a batch of whole
 * lines at a time (every second while the step runs, and at its end), without the local time stamp (the node
 * stamps each line as it takes it). A node that does not take a batch gets it again with the next one.
 */
final class LogShipper {

    private static final Pattern STAMP = Pattern.compile("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3} ",
            Pattern.MULTILINE);
    private static final int BATCH = 60 * 1024;
    private final Path log;
    private final NodeClient node;
    private final String task;
    private final String worker;
    private final Path progress;
    private long sent;
    private String progressSent = "";

    LogShipper(ResultsDir results, NodeClient node, String task, String worker) {
        this.log = results.file(ResultsDir.LOGS).resolve("combined.log");
        this.progress = results.file(ResultsDir.COMPOSE).resolve(Progress.FILE);
        this.node = node;
        this.task = task;
        this.worker = worker;
    }

    synchronized void ship() {
        shipLog();
        try { // the step's current phase, when it changed
            String now = Files.isRegularFile(progress) ? Files.readString(progress) : "";
            if (!now.isEmpty() && !now.equals(progressSent)) {
                node.putFile(task, worker, "progress", progress);
                progressSent = now;
            }
        } catch (IOException e) {
            LoggerFactory.getLogger(LogShipper.class).debug("progress not sent yet: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void shipLog() {
        try {
            while (Files.isRegularFile(log) && Files.size(log) > sent) {
                String batch;
                try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
                    f.seek(sent);
                    byte[] data = new byte[(int) Math.min(BATCH, f.length() - sent)];
                    f.readFully(data);
                    int end = lastNewline(data);
                    if (end < 0 && data.length < BATCH) {
                        return; // half a line: it goes with the next batch
                    }
                    end = end < 0 ? data.length - 1 : end;
                    batch = new String(data, 0, end + 1, StandardCharsets.UTF_8);
                    node.post(task, worker, "log", STAMP.matcher(batch).replaceAll(""));
                    sent += end + 1;
                }
            }
        } catch (IOException e) {
            LoggerFactory.getLogger(LogShipper.class).debug("log not sent yet: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int lastNewline(byte[] data) {
        for (int i = data.length - 1; i >= 0; i--) {
            if (data[i] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
