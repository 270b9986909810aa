package dev.kiln.worker;

import dev.kiln.KilnProperties;
import dev.kiln.engine.EngineEnvironment;
import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.pipeline.ComposeProcess;
import dev.kiln.pipeline.ComposeStep;
import dev.kiln.pipeline.StepTimeouts;
import dev.kiln.store.StatePermissions;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.regex.Pattern;
import org.camunda.bpm.client.ExternalTaskClient;
import org.camunda.bpm.client.backoff.ErrorAwareBackoffStrategy;
import org.camunda.bpm.client.exception.ExternalTaskClientException;
import org.camunda.bpm.client.task.ExternalTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kiln worker --engine URL --token …}: runs the chosen topics (by default the heavy ones, {@code build} and
 * {@code boot-test}) for the nodes at {@code --engine}, on this machine, with only the host's image tools installed.
 * Each slot is one external-task client that holds at most one task: long polls of {@code --poll-seconds}, the
 * oldest compose of the highest priority first, the lock of {@code --lock-seconds} extended every third of it.
 * Settings of the builds themselves ({@code --kiln.build.tmpfs=false}, the caches' bounds) pass through as on a node.
 */
@Command(name = "kiln worker", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Build images for Kiln nodes on this machine, over their /engine-rest and worker routes.")
public final class RemoteWorker implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(RemoteWorker.class);
    private static final Pattern WORKER_ID = Pattern.compile("[A-Za-z0-9._:@-]{1,100}");

    @Option(names = "--engine", required = true, split = ",", paramLabel = "URL",
            description = "a node's URL (http://HOST:PORT); several for failover, tried in turn")
    List<String> engines;
    @Option(names = "--token", paramLabel = "TOKEN", description = "the nodes' API token (<state-dir>/api-token); "
            + "better --token-file or $KILN_WORKER_TOKEN, which no process listing shows")
    String token;
    @Option(names = "--token-file", paramLabel = "FILE", description = "a file holding the token")
    Path tokenFile;
    @Option(names = "--topics", split = ",", defaultValue = "build,boot-test", description = "topics to serve "
            + "(default: ${DEFAULT-VALUE})")
    List<String> topics;
    @Option(names = "--concurrency", defaultValue = "1", description = "tasks of each topic at once (default: 1)")
    int concurrency;
    @Option(names = "--state-dir", defaultValue = "/var/lib/kiln-worker", description = "caches and the work of "
            + "running steps (default: ${DEFAULT-VALUE})")
    Path stateDir;
    @Option(names = "--worker-id", description = "how the engine names this worker (default: kiln-worker-HOST-PID)")
    String workerId;
    @Option(names = "--lock-seconds", defaultValue = "60", description = "lock of a task; a dead worker's task is "
            + "taken again after at most this (default: 60)")
    int lockSeconds;
    @Option(names = "--poll-seconds", defaultValue = "5", description = "long-poll time (default: 5)")
    int pollSeconds;
    @Option(names = "--retries", defaultValue = "3", description = "attempts of a step that fails for a passing "
            + "reason (default: 3)")
    int retries;
    @Option(names = "--drain-seconds", defaultValue = "600", description = "on SIGTERM, how long running steps "
            + "may finish before they are stopped (default: 600)")
    int drainSeconds;
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;
    @CommandLine.Unmatched
    List<String> springArgs = new ArrayList<>();

    private final CountDownLatch stopped = new CountDownLatch(1);

    /** Runs the worker until it is stopped (SIGTERM, SIGINT); answers the exit code. */
    public static int run(String[] args) {
        return run(args, new PrintWriter(System.err, true));
    }

    /** As {@link #run(String[])}, its errors written to {@code err}. */
    static int run(String[] args, PrintWriter err) {
        return new CommandLine(new RemoteWorker()).setUnmatchedArgumentsAllowed(true).setErr(err).execute(args);
    }

    @Override
    public Integer call() throws Exception {
        List<URI> nodes = nodes();
        String secret = token();
        if (workerId == null) {
            workerId = "kiln-worker-" + InetAddress.getLocalHost().getHostName() + "-" + ProcessHandle.current().pid();
        }
        if (!WORKER_ID.matcher(workerId).matches()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--worker-id: letters, digits, ._:@- only");
        }
        if (concurrency < 1 || lockSeconds < 3 || pollSeconds < 0 || pollSeconds > 300 || retries < 1
                || drainSeconds < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--concurrency ≥ 1, --lock-seconds ≥ 3, --poll-seconds 0–300, --retries ≥ 1, --drain-seconds ≥ 0");
        }
        stateDir = stateDir.toAbsolutePath().normalize();
        StatePermissions.applyNode(stateDir);
        Files.createDirectories(stateDir.resolve("results"));
        ConfigurableApplicationContext context = context(nodes);
        Map<String, ComposeStep> steps = new HashMap<>();
        context.getBeansOfType(ComposeStep.class).values().forEach(s -> steps.put(s.topic(), s));
        for (String t : topics) {
            if (!steps.containsKey(t)) {
                context.close();
                throw new CommandLine.ParameterException(spec.commandLine(), "--topics: a worker serves "
                        + steps.keySet().stream().sorted().toList() + ", not " + t);
            }
        }
        NodeClient node = new NodeClient(nodes, secret);
        if (!node.ping()) {
            node.failover("no answer at start");
        }
        ScheduledExecutorService timers = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, "worker-timers");
            t.setDaemon(true);
            return t;
        });
        Map<String, ToolRunner> running = new ConcurrentHashMap<>();
        KilnProperties properties = context.getBean(KilnProperties.class);
        StepTimeouts timeouts = context.getBean(StepTimeouts.class);
        List<ExternalTaskClient> clients = new ArrayList<>();
        long lockMs = lockSeconds * 1000L;
        for (String topic : topics) {
            RemoteStep handler = new RemoteStep(steps.get(topic), node, stateDir.resolve("results"),
                    properties.localDir(), timeouts, timers, lockMs, retries, 2000, running);
            for (int i = 1; i <= concurrency; i++) {
                ExternalTaskClient client = ExternalTaskClient.create().urlResolver(node)
                        .workerId(workerId + "-" + topic + "-" + i).maxTasks(1).usePriority(true)
                        .orderByCreateTime().asc().asyncResponseTimeout(pollSeconds * 1000L).lockDuration(lockMs)
                        .addInterceptor(request -> request.addHeader("Authorization", node.authorization()))
                        .backoffStrategy(new Backoff(node)).build();
                client.subscribe(topic).lockDuration(lockMs).variables(ComposeProcess.STEP_VARIABLES)
                        .handler(handler).open();
                clients.add(client);
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            drain(clients, running);
            context.close();
            stopped.countDown();
        }, "worker-stop"));
        log.info("Worker {} serving {} for {} (now {}), {} at a time each, lock {} s, long poll {} s, state {}",
                workerId, topics, nodes, node.node(), concurrency, lockSeconds, pollSeconds, stateDir);
        stopped.await();
        return 0;
    }

    /**
     * SIGTERM drains: no task is fetched any more, the running steps may finish for {@code --drain-seconds}, then
     * what still runs is stopped (its lock lapses and another worker does the step again).
     */
    private void drain(List<ExternalTaskClient> clients, Map<String, ToolRunner> running) {
        log.info("Worker {} draining: {} step(s) running, up to {} s to finish", workerId, running.size(), drainSeconds);
        List<Thread> stopping = new ArrayList<>();
        for (ExternalTaskClient c : clients) {
            Thread t = new Thread(c::stop, "worker-drain");
            t.start();
            stopping.add(t);
        }
        long deadline = System.currentTimeMillis() + drainSeconds * 1000L;
        for (Thread t : stopping) {
            try {
                t.join(Math.max(1, deadline - System.currentTimeMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!running.isEmpty()) {
            log.warn("Worker {}: stopping {} step(s) that did not finish in time", workerId, running.size());
            running.values().forEach(ToolRunner::killAll);
        }
    }

    private ConfigurableApplicationContext context(List<URI> nodes) {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("kiln.state-dir", stateDir.toString());
        props.put("kiln.node-dir", stateDir.toString());
        props.put(EngineEnvironment.WORKER_PROPERTY, nodes.get(0).toString());
        props.put("logging.level.org.camunda.bpm.client", "warn"); // a node that stops answering: our line says it
        return new SpringApplicationBuilder(WorkerContext.class).web(WebApplicationType.NONE)
                .bannerMode(Banner.Mode.OFF).logStartupInfo(false).properties(props)
                .run(springArgs.toArray(String[]::new));
    }

    private List<URI> nodes() {
        List<URI> nodes = new ArrayList<>();
        for (String e : engines) {
            String url = e.strip().replaceAll("/+$", "").replaceAll("/engine-rest$", "");
            URI uri;
            try {
                uri = URI.create(url);
            } catch (IllegalArgumentException bad) {
                uri = null;
            }
            if (uri == null || !(url.startsWith("http://") || url.startsWith("https://")) || uri.getHost() == null
                    || uri.getRawQuery() != null || url.chars().anyMatch(c -> c < 0x21 || c == 0x7f)) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--engine: a node's URL, http[s]://HOST[:PORT], not " + e.replaceAll("\\p{Cntrl}", "?"));
            }
            nodes.add(uri);
        }
        return nodes;
    }

    private String token() throws IOException {
        String t = token;
        if (t == null && tokenFile != null) {
            t = Files.readString(tokenFile, StandardCharsets.UTF_8);
        }
        if (t == null) {
            t = System.getenv("KILN_WORKER_TOKEN");
        }
        t = t == null ? "" : t.strip();
        if (t.length() < 32 || t.chars().anyMatch(c -> c < 0x21 || c == 0x7f)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "a worker needs the nodes' API token "
                    + "(<state-dir>/api-token of a node): --token-file FILE, $KILN_WORKER_TOKEN or --token");
        }
        return t;
    }

    /**
     * Between fetches: none after work or an empty long poll (the poll itself waited); after a failed fetch one
     * second, and the next node, so a dead node's workers move on in a second or two.
     */
    private static final class Backoff implements ErrorAwareBackoffStrategy {
        private final NodeClient node;
        private volatile long wait;

        Backoff(NodeClient node) {
            this.node = node;
        }

        @Override
        public void reconfigure(List<ExternalTask> tasks, ExternalTaskClientException error) {
            if (error != null) {
                wait = 1000;
                node.failover(error.getMessage());
            } else {
                wait = 0;
            }
        }

        @Override
        public long calculateBackoffTime() {
            return wait;
        }
    }

}
