package dev.kiln.image.sandbox;

import java.io.BufferedOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import dev.kiln.store.Progress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the host tools of one compose: argument lists only (never a shell with spliced text), each command with
 * its exit code and the tail of its output written to the compose's log, and every child process tracked so that
 * {@link #killAll()} (cancel) leaves nothing behind.
 */
public final class ToolRunner {

    private static final Logger log = LoggerFactory.getLogger(ToolRunner.class);
    private final Set<Process> running = ConcurrentHashMap.newKeySet();
    private final BiConsumer<String, String> composeLog;
    private final Progress progress;
    private volatile boolean killed;

    /** @param composeLog receives (level, message) lines for the compose's own log */
    public ToolRunner(BiConsumer<String, String> composeLog) {
        this(composeLog, Progress.none());
    }

    /** As {@link #ToolRunner(BiConsumer)}; the steps report their phases to {@code progress}. */
    public ToolRunner(BiConsumer<String, String> composeLog, Progress progress) {
        this.composeLog = composeLog;
        this.progress = progress;
    }

    /** Where the compose's step reports its phases and counts. */
    public Progress progress() {
        return progress;
    }

    /** Runs a command to its end; a non-zero exit is an {@link IOException} carrying the output's tail. */
    public String run(Path workDir, List<String> command) throws IOException, InterruptedException {
        return run(workDir, command, Map.of(), null);
    }

    /**
     * Runs a command with extra environment variables and, if {@code stdin} is not null, that text on its standard
     * input (how secrets such as passwords reach a tool: never on its command line).
     */
    public String run(Path workDir, List<String> command, Map<String, String> env, String stdin)
            throws IOException, InterruptedException {
        return run(workDir, command, env, stdin, null);
    }

    /**
     * As {@link #run(Path, List, java.util.Map, String)}; the log names the command {@code inSandbox} (what runs in
     * the build sandbox, whose wrapper is always the same) when it is not null.
     */
    public String run(Path workDir, List<String> command, Map<String, String> env, String stdin,
            List<String> inSandbox) throws IOException, InterruptedException {
        return run(workDir, command, env, stdin, inSandbox, null);
    }

    /** As {@link #run(Path, List, Map, String, List)}; {@code started} (if not null) is given the tool's process. */
    public String run(Path workDir, List<String> command, Map<String, String> env, String stdin,
            List<String> inSandbox, Consumer<ProcessHandle> started) throws IOException, InterruptedException {
        return run(workDir, command, env, stdin, inSandbox == null ? command.get(0) : inSandbox.get(0),
                inSandbox == null ? "Running: " + String.join(" ", command)
                        : "Running in the sandbox: " + String.join(" ", inSandbox), started);
    }

    /**
     * As {@link #run(Path, List)}, the log saying {@code shown} after the tool's name instead of its arguments (a
     * list of hundreds of file names).
     */
    public String runShown(Path workDir, List<String> command, String shown) throws IOException, InterruptedException {
        return run(workDir, command, Map.of(), null, command.get(0), "Running: " + command.get(0) + " " + shown,
                null);
    }

    private String run(Path workDir, List<String> command, Map<String, String> env, String stdin, String name,
            String line, Consumer<ProcessHandle> started) throws IOException, InterruptedException {
        if (killed) {
            throw new InterruptedException("the compose was cancelled");
        }
        composeLog.accept("INFO", line);
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(dieWithService(command)).redirectErrorStream(true);
        in(pb, workDir);
        pb.environment().putAll(env);
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        Process p = launch(pb);
        try {
            if (started != null) {
                started.accept(p.toHandle());
            }
            if (stdin != null) {
                try (var in = p.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            byte[] out = p.getInputStream().readAllBytes();
            int exit = p.waitFor();
            String text = new String(out, StandardCharsets.UTF_8);
            composeLog.accept(exit == 0 ? "INFO" : "ERROR", String.format("%s exited %d after %d ms%s", name,
                    exit, (System.nanoTime() - t0) / 1_000_000, text.isBlank() ? "" : ": " + tail(text)));
            if (killed) {
                throw new InterruptedException("the compose was cancelled");
            }
            if (exit != 0) {
                throw new ToolFailedException(name, exit, tail(text));
            }
            return text;
        } catch (InterruptedException e) {
            kill(p);
            throw e;
        } finally {
            running.remove(p);
        }
    }

    /**
     * Runs a short host tool outside any compose (no log, no cancel): its output goes to {@code stdout}, its errors
     * are dropped, and it dies with the service. Answers its exit code.
     */
    public static int runToFile(List<String> command, Path stdout) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(dieWithService(command)).redirectOutput(stdout.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            return p.waitFor();
        } finally {
            p.destroyForcibly();
        }
    }

    /**
     * Every tool gets SIGKILL when the service dies, even by {@code kill -9} (setpriv's parent-death signal): an xz or
     * qemu-img of a dead service would otherwise run on, holding disk and cores. The sandbox's commands already
     * start that way.
     */
    public static List<String> dieWithService(List<String> command) {
        if (command.get(0).equals("setpriv")) {
            return command;
        }
        List<String> full = new ArrayList<>(List.of("setpriv", "--pdeathsig", "KILL", "--"));
        full.addAll(command);
        return full;
    }

    /** Writes a stream into a tool's standard input. */
    public interface Feed {
        void write(OutputStream stdin) throws IOException;
    }

    /**
     * Runs a filter (a compressor): {@code feed} writes its standard input, its standard output goes to
     * {@code output}. The process is tracked like any other, so cancel stops the feed too (a broken pipe).
     */
    public void pipe(Path workDir, List<String> command, Feed feed, Path output) throws IOException, InterruptedException {
        if (killed) {
            throw new InterruptedException("the compose was cancelled");
        }
        composeLog.accept("INFO", "Running: " + String.join(" ", command) + " > " + output.getFileName());
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder(dieWithService(command)).redirectOutput(output.toFile());
        in(pb, workDir);
        Process p = launch(pb);
        // what the filter says on its standard error (a write error: a full disk), read aside while it runs
        java.util.concurrent.CompletableFuture<String> said = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try (var err = p.getErrorStream()) {
                byte[] b = err.readNBytes(64 * 1024);
                err.transferTo(OutputStream.nullOutputStream());
                return new String(b, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        });
        try {
            IOException fed = null;
            try (OutputStream in = new BufferedOutputStream(p.getOutputStream(), 1 << 20)) {
                feed.write(in);
            } catch (IOException e) {
                if (killed) {
                    throw new InterruptedException("the compose was cancelled");
                }
                fed = e; // the filter stopped reading: its exit and what it said tell why
            }
            int exit = p.waitFor();
            String text = said.join();
            composeLog.accept(exit == 0 ? "INFO" : "ERROR", String.format("%s exited %d after %d ms%s", command.get(0),
                    exit, (System.nanoTime() - t0) / 1_000_000, text.isBlank() ? "" : ": " + tail(text)));
            if (killed) {
                throw new InterruptedException("the compose was cancelled");
            }
            if (exit != 0) {
                throw new ToolFailedException(command.get(0), exit, text);
            }
            if (fed != null) {
                throw fed;
            }
        } catch (InterruptedException e) {
            kill(p);
            throw e;
        } finally {
            running.remove(p);
        }
    }

    /**
     * Starts a long-running tool (QEMU) whose output goes to {@code output}; it is tracked like any other, and
     * {@link #stop} ends it.
     */
    public Process start(Path workDir, List<String> command, Path output) throws IOException, InterruptedException {
        if (killed) {
            throw new InterruptedException("the compose was cancelled");
        }
        composeLog.accept("INFO", "Starting: " + String.join(" ", command));
        ProcessBuilder pb = new ProcessBuilder(dieWithService(command)).redirectErrorStream(true).redirectOutput(output.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        in(pb, workDir);
        Process p = launch(pb);
        return p;
    }

    /** Starts a tool and tracks it; one cancelled between the caller's check and the start is killed at once. */
    private Process launch(ProcessBuilder pb) throws IOException, InterruptedException {
        Process p = pb.start();
        running.add(p);
        if (killed) { // killAll did not see this one
            kill(p);
            running.remove(p);
            throw new InterruptedException("the compose was cancelled");
        }
        return p;
    }

    private static void in(ProcessBuilder pb, Path workDir) {
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
    }

    /** Stops a tool {@link #start}ed earlier (and what it started). */
    public void stop(Process p) {
        kill(p);
        running.remove(p);
    }

    /** Writes a line to the compose's log. */
    public void note(String message) {
        composeLog.accept("INFO", message);
    }

    /** Kills every running child and its descendants; later runs refuse to start. */
    public void killAll() {
        killed = true;
        for (Process p : new ArrayList<>(running)) {
            kill(p);
        }
    }

    public boolean killed() {
        return killed;
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.debug("killed {}", p.pid());
    }

    private static String tail(String text) {
        String t = text.strip();
        return t.length() <= 2000 ? t : "..." + t.substring(t.length() - 2000);
    }
}
