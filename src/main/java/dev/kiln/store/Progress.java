package dev.kiln.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * What one step of one compose is doing, for the people watching it. The step's current phase, with its counts
 * ({@code configure 120/164 packages (php8.2-common)}), bytes and rate, is written to {@code compose/progress.json}
 * (at each change of phase and at most four times a second otherwise), where {@code compose info}, the follow
 * route and the CLI read it; each phase's duration, count and bytes, and each step's, are appended to
 * {@code metrics.json} as they end ({@code kiln compose metrics}); and an estimate of the remainder is made from
 * the phases of the last build of the same package set and type ({@link #history}).
 */
public final class Progress {

    /** The compose's progress file, in its scratch directory (gone with it when the compose finishes). */
    public static final String FILE = "progress.json";
    /** Times stay decimals as written ({@code 1795882697.531}, not {@code 1.795882697531E9}) when read back. */
    private static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(com.fasterxml.jackson.core.StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN).build();

    /** Reads a document written elsewhere (a remote worker's report or metrics) as this class reads its own. */
    public static JsonNode parseJson(byte[] text) throws IOException {
        return JSON.readTree(text);
    }
    private static final long WRITE_EVERY_MS = 250;

    private final ResultsDir results;
    private final Consumer<String> note;
    private final LongSupplier clock;
    private String step;
    private long stepStartedMs;
    private String phase;
    private long phaseStartedMs;
    private long total;
    private long done;
    private String unit = "";
    private String item = "";
    private long bytes;
    private long seq;
    private long lastWrite = Long.MIN_VALUE / 2;
    /** This step's time per phase so far (a phase may come back: unpack, configure, unpack, configure). */
    private final Map<String, Long> spentMs = new LinkedHashMap<>();
    private final Set<String> seen = new LinkedHashSet<>();
    private Map<String, Double> last = Map.of();
    private Path historyFile;

    /** A recorder that records nothing (tools run outside a compose). */
    public static Progress none() {
        return new Progress(null, line -> { }, System::currentTimeMillis);
    }

    /** @param note receives a line for the compose's log at each change of phase */
    public Progress(ResultsDir results, Consumer<String> note) {
        this(results, note, System::currentTimeMillis);
    }

    Progress(ResultsDir results, Consumer<String> note, LongSupplier clock) {
        this.results = results;
        this.note = note;
        this.clock = clock;
    }

    /** A step begins. */
    public synchronized void start(String stepName) {
        step = stepName;
        stepStartedMs = clock.getAsLong();
        phase = null;
        spentMs.clear();
        seen.clear();
    }

    /**
     * Estimates come from (and a successful build is remembered in) {@code file}: the phases of the last build of
     * the same package set and type. A file that cannot be read gives no estimate.
     */
    public synchronized void history(Path file) {
        historyFile = file;
        Map<String, Double> phases = new LinkedHashMap<>();
        try {
            if (file != null && Files.isRegularFile(file) && Files.size(file) < 64 * 1024) {
                JSON.readTree(file.toFile()).path("phases").fields()
                        .forEachRemaining(e -> phases.put(e.getKey(), e.getValue().asDouble()));
            }
        } catch (IOException | RuntimeException unreadable) {
            phases.clear();
        }
        last = phases;
    }

    /** The phase under way ({@code unpack}, {@code configure}, …), null before the first. */
    public synchronized String current() {
        return phase;
    }

    /** A phase without counts begins ({@code initramfs}, {@code mkfs}); the phase before it ends. */
    public void phase(String name) {
        phase(name, 0, "");
    }

    /**
     * A phase of {@code total} {@code unit} (packages, %, files; 0 when unknown) begins, or goes on if it is the
     * current one (its total updated); the phase before it ends.
     */
    public void phase(String name, long phaseTotal, String phaseUnit) {
        phase(name, phaseTotal, phaseUnit, 0, "");
    }

    /**
     * As {@link #phase(String, long, String)}, with {@code count} of the total done already, the last of them
     * {@code what} (a phase that comes back: dpkg unpacking again after configuring the Essential set).
     */
    public synchronized void phase(String name, long phaseTotal, String phaseUnit, long count, String what) {
        if (name.equals(phase)) {
            total = phaseTotal;
            advance(count, what);
            return;
        }
        endPhase();
        phase = name;
        phaseStartedMs = clock.getAsLong();
        total = phaseTotal;
        unit = phaseUnit;
        done = count;
        item = what;
        bytes = 0;
        seen.add(name);
        note.accept("phase " + name + (phaseTotal > 0 ? " (" + phaseTotal + " " + phaseUnit + ")" : ""));
        write(true);
    }

    /** {@code count} of the phase's total are done, the last of them {@code what} (may be empty). */
    public synchronized void advance(long count, String what) {
        done = count;
        item = what == null ? "" : what;
        write(total > 0 && done >= total);
    }

    /** One more of the phase's total is done. */
    public synchronized void step(String what) {
        advance(done + 1, what);
    }

    /** {@code n} more bytes were handled in this phase (fetched, written). */
    public synchronized void bytes(long n) {
        bytes += n;
        write(false);
    }

    /** The step ended ({@code ok} or not): its last phase and the step itself go into {@code metrics.json}. */
    public synchronized void end(boolean ok, String worker) {
        endPhase();
        if (results == null || step == null) {
            return;
        }
        long now = clock.getAsLong();
        ObjectNode entry = JSON.createObjectNode();
        entry.put("step", step);
        entry.put("started", seconds(stepStartedMs));
        entry.put("seconds", seconds(now - stepStartedMs));
        entry.put("outcome", ok ? "done" : "failed");
        if (worker != null) {
            entry.put("worker", worker);
        }
        append("steps", entry);
        if (ok && historyFile != null && !spentMs.isEmpty()) {
            remember(now);
        }
        step = null;
    }

    private void remember(long now) {
        ObjectNode h = JSON.createObjectNode();
        ObjectNode phases = h.putObject("phases");
        spentMs.forEach((name, ms) -> phases.put(name, seconds(ms)));
        h.put("seconds", seconds(now - stepStartedMs));
        try {
            Files.createDirectories(historyFile.getParent());
            AtomicFiles.writeString(historyFile, JSON.writeValueAsString(h));
        } catch (IOException | RuntimeException e) {
            note.accept("the phases of this build were not kept for estimates: " + e.getMessage());
        }
    }

    private void endPhase() {
        if (phase == null) {
            return;
        }
        long now = clock.getAsLong();
        spentMs.merge(phase, now - phaseStartedMs, Long::sum);
        if (results != null) {
            ObjectNode entry = JSON.createObjectNode();
            entry.put("step", step == null ? "" : step);
            entry.put("phase", phase);
            entry.put("started", seconds(phaseStartedMs));
            entry.put("seconds", seconds(now - phaseStartedMs));
            if (total > 0 && !unit.equals("%")) {
                entry.put("count", done);
                entry.put("unit", unit);
            }
            entry.put("bytes", bytes);
            append("phases", entry);
        }
        phase = null;
    }

    /** The estimated seconds left of the step, from the last build of the same set; null without one. */
    private Double remainder(long now) {
        if (last.isEmpty() || phase == null) {
            return null;
        }
        // the phases that came after this one last time (those before it that did not come now were skipped: a
        // tree taken from the cache skips fetch, unpack and configure), then what is left of this one
        double left = 0;
        boolean after = !last.containsKey(phase);
        for (Map.Entry<String, Double> e : last.entrySet()) {
            if (after && !seen.contains(e.getKey())) {
                left += e.getValue();
            }
            after |= e.getKey().equals(phase);
        }
        Double before = last.get(phase);
        if (before != null) {
            double spent = (spentMs.getOrDefault(phase, 0L) + now - phaseStartedMs) / 1000.0;
            double fraction = total > 0 ? Math.min(1.0, (double) done / total) : Math.min(1.0, spent / before);
            left += Math.max(0, before * (1 - fraction));
        }
        return left;
    }

    private void write(boolean now) {
        if (results == null || phase == null) {
            return;
        }
        long ms = clock.getAsLong();
        if (!now && ms - lastWrite < WRITE_EVERY_MS) {
            return;
        }
        lastWrite = ms;
        ObjectNode p = JSON.createObjectNode();
        p.put("seq", ++seq);
        p.put("step", step == null ? "" : step);
        p.put("phase", phase);
        p.put("done", done);
        p.put("total", total);
        p.put("unit", unit);
        p.put("item", item);
        p.put("bytes", bytes);
        long phaseMs = Math.max(1, ms - phaseStartedMs);
        p.put("rate", bytes * 1000 / phaseMs);
        p.put("step_started", seconds(stepStartedMs));
        p.put("phase_started", seconds(phaseStartedMs));
        p.put("updated", seconds(ms));
        Double left = remainder(ms);
        if (left != null) {
            p.put("eta_seconds", Math.round(left));
        }
        try {
            write(results, p); // not into a results directory removed meanwhile (cancelled or deleted)
        } catch (IOException | RuntimeException e) {
            // a progress file that cannot be written (a full disk) costs the display, never the build
        }
    }

    private void append(String key, ObjectNode entry) {
        try {
            rewrite(results, m -> ((ArrayNode) m.get(key)).add(entry));
        } catch (UncheckedIOException e) {
            note.accept("metrics not recorded: " + e.getMessage());
        }
    }

    /** Changes the compose's {@code metrics.json} under its results directory's lock ({@link ResultsDir#update}). */
    private static void rewrite(ResultsDir results, Consumer<ObjectNode> change) {
        results.update(ResultsDir.METRICS, text -> {
            ObjectNode m = parse(text, results.uuid());
            change.accept(m);
            try {
                return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** {@code metrics.json} as an object with its two lists, new when {@code text} is null or not one. */
    public static ObjectNode parse(String text, String uuid) {
        ObjectNode m;
        try {
            JsonNode read = text == null ? null : JSON.readTree(text);
            m = read instanceof ObjectNode o ? o : JSON.createObjectNode();
        } catch (IOException e) {
            m = JSON.createObjectNode();
        }
        if (!m.has("compose")) {
            m.put("compose", uuid);
        }
        for (String list : new String[] {"steps", "phases"}) {
            if (!(m.get(list) instanceof ArrayNode)) {
                m.putArray(list);
            }
        }
        return m;
    }

    /**
     * Adds the entries of a metrics document made elsewhere (a remote worker's step) to the compose's: only the
     * two lists, only entries whose fields have the types this class writes.
     */
    public static void merge(ResultsDir results, JsonNode from) {
        rewrite(results, m -> {
            for (String list : new String[] {"steps", "phases"}) {
                for (JsonNode e : from.path(list)) {
                    if (wellFormed(e)) {
                        ((ArrayNode) m.get(list)).add(e);
                    }
                }
            }
        });
    }

    private static final Set<String> NUMBERS = Set.of("seq", "done", "total", "bytes", "rate", "step_started",
            "phase_started", "updated", "eta_seconds");
    private static final Set<String> WORDS = Set.of("step", "phase", "unit", "item");

    /**
     * A progress report made elsewhere (a remote worker's), as this class writes one: the known fields only, numbers
     * finite and not negative, words short and plain; anything else is an {@link IllegalArgumentException}.
     */
    public static ObjectNode checked(JsonNode report) {
        if (report == null || !report.isObject()) {
            throw new IllegalArgumentException("a progress report is a JSON object");
        }
        ObjectNode out = JSON.createObjectNode();
        var it = report.fields();
        while (it.hasNext()) {
            var f = it.next();
            JsonNode v = f.getValue();
            if (NUMBERS.contains(f.getKey()) && v.isNumber() && Double.isFinite(v.asDouble()) && v.asDouble() >= 0) {
                out.set(f.getKey(), v);
            } else if (WORDS.contains(f.getKey()) && v.isTextual() && WORD.matcher(v.asText()).matches()
                    && v.asText().length() <= 100) {
                out.set(f.getKey(), v);
            } else {
                throw new IllegalArgumentException("field " + f.getKey().replaceAll("[^A-Za-z0-9_]", "?")
                        + " is not what a progress report holds");
            }
        }
        if (!out.has("phase")) {
            throw new IllegalArgumentException("a progress report names its phase");
        }
        return out;
    }

    /** Writes a checked report as the compose's current progress. */
    public static void write(ResultsDir results, ObjectNode report) throws IOException {
        if (results.exists()) {
            Path dir = Files.createDirectories(results.file(ResultsDir.COMPOSE));
            AtomicFiles.replace(dir.resolve(FILE), JSON.writeValueAsBytes(report)); // information only
        }
    }

    /** The compose's current progress report, or null when there is none (or it cannot be read). */
    public static JsonNode read(ResultsDir results) {
        Path f = results.file(ResultsDir.COMPOSE).resolve(FILE);
        try {
            return Files.isRegularFile(f) && Files.size(f) < 64 * 1024 ? JSON.readTree(f.toFile()) : null;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * A report in a line: {@code configure 120/164 packages (php8.2-common)}, {@code compress 61%}, {@code mkfs};
     * with the estimated remainder when there is one ({@code , about 80 s left}).
     */
    public static String shortForm(JsonNode p) {
        if (p == null || !p.hasNonNull("phase")) {
            return "";
        }
        StringBuilder s = new StringBuilder(p.path("phase").asText());
        long total = p.path("total").asLong();
        String unit = p.path("unit").asText();
        if (total > 0 && unit.equals("%")) {
            s.append(' ').append(p.path("done").asLong()).append('%');
        } else if (total > 0) {
            s.append(' ').append(p.path("done").asLong()).append('/').append(total).append(' ').append(unit);
        }
        if (!p.path("item").asText().isEmpty()) {
            s.append(" (").append(p.path("item").asText()).append(')');
        }
        if (p.has("eta_seconds")) {
            s.append(", about ").append(p.path("eta_seconds").asLong()).append(" s left");
        }
        return s.toString();
    }

    private static final java.util.regex.Pattern WORD = java.util.regex.Pattern.compile("[A-Za-z0-9@._%+:-]{0,200}");

    /** An entry of a list: an object of short words and finite numbers, nothing else. */
    public static boolean wellFormed(JsonNode e) {
        if (!e.isObject() || e.size() > 12) {
            return false;
        }
        var it = e.fields();
        while (it.hasNext()) {
            var f = it.next();
            JsonNode v = f.getValue();
            boolean ok = v.isTextual() ? WORD.matcher(v.asText()).matches()
                    : v.isNumber() && Double.isFinite(v.asDouble());
            if (!ok || !WORD.matcher(f.getKey()).matches()) {
                return false;
            }
        }
        return true;
    }

    /** A file name for the estimates of {@code what} (a type and a package set): its SHA-256 in hex. */
    public static String key(String what) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(what.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static BigDecimal seconds(long ms) {
        return BigDecimal.valueOf(ms).divide(BigDecimal.valueOf(1000)).setScale(3, RoundingMode.HALF_UP);
    }
}
