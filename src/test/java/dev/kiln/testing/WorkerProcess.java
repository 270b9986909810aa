package dev.kiln.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * {@code kiln worker} as its own process (the test's classpath, as {@code java -jar kiln.jar worker} would run),
 * its output in {@code <dir>/worker.log}; started through {@code wrap} (say, inside a network namespace).
 */
public final class WorkerProcess implements AutoCloseable {

    public final String id;
    private final Path log;
    private final Process process;

    private WorkerProcess(String id, Path log, Process process) {
        this.id = id;
        this.log = log;
        this.process = process;
    }

    /**
     * Starts a worker named {@code id} for the nodes {@code engines} (comma-separated URLs) with the token in
     * {@code tokenFile} and its state in {@code dir/state}; waits until it serves. {@code more}: further options.
     */
    public static WorkerProcess start(Path dir, String id, String engines, Path tokenFile, UnaryOperator<List<String>> wrap,
            String... more) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), "dev.kiln.Main", "worker",
                "--engine", engines, "--token-file", tokenFile.toString(), "--state-dir", dir.resolve("state").toString(),
                "--worker-id", id));
        command.addAll(List.of(more));
        Path log = dir.resolve("worker.log");
        Process p = new ProcessBuilder(wrap.apply(command)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        WorkerProcess w = new WorkerProcess(id, log, p);
        long deadline = System.currentTimeMillis() + 60_000;
        while (!Files.readString(log).contains("Worker " + id + " serving")) {
            if (!p.isAlive() || System.currentTimeMillis() > deadline) {
                p.destroyForcibly();
                throw new AssertionError("worker " + id + " did not start: " + Files.readString(log));
            }
            Thread.sleep(100);
        }
        return w;
    }

    /** SIGKILL: no shutdown hook; its locks lapse. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }
}
