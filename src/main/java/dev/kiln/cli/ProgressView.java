package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.Locale;

/**
 * How {@code compose start --wait} and {@code compose log --follow} show a compose's progress: on a terminal, one
 * bar line redrawn in place ({@code [######......]  45% configure 74/164 packages (perl) 3m05s, about 1m20s left});
 * otherwise plain lines, one at each change of phase and at each tenth of a counted phase. {@code KILN_PROGRESS=bar}
 * or {@code plain} chooses either way.
 */
final class ProgressView {

    private final PrintStream out;
    private final boolean bar;
    private final int width;
    private String barText = "";
    private String lastKey = "";

    ProgressView(PrintStream out, boolean bar, int width) {
        this.out = out;
        this.bar = bar;
        this.width = Math.max(40, Math.min(width, 200));
    }

    static ProgressView of(Session s) {
        String asked = System.getenv().getOrDefault("KILN_PROGRESS", "");
        boolean bar = asked.equals("bar") || !asked.equals("plain") && terminal();
        int columns = 80;
        try {
            columns = Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "80"));
        } catch (NumberFormatException e) {
            // the default
        }
        return new ProgressView(s.out, bar && !s.json, columns);
    }

    /** Standard output is a terminal (Java 22 and later answer {@code Console.isTerminal}; before, a console is one). */
    private static boolean terminal() {
        java.io.Console c = System.console();
        if (c == null) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    /** Prints log text (whole lines), the bar kept below it. */
    void text(String text) {
        if (text.isEmpty()) {
            return;
        }
        clear();
        out.print(text);
        redraw();
    }

    /** A plain line (a change of status), the bar kept below it. */
    void line(String line) {
        clear();
        out.println(line);
        redraw();
    }

    /** The compose's current phase: the bar redrawn, or a plain line when it says something new. */
    void show(String uuid, String status, JsonNode p) {
        if (p == null || p.isNull() || p.isMissingNode() || !p.hasNonNull("phase")) {
            return;
        }
        String phase = p.path("phase").asText();
        long total = p.path("total").asLong();
        long done = p.path("done").asLong();
        int percent = total > 0 ? (int) Math.min(100, done * 100 / total) : -1;
        String words = describe(p, !bar);
        if (bar) {
            clear();
            int cells = 20;
            String meter = percent < 0 ? "" : "[" + "#".repeat(percent * cells / 100)
                    + ".".repeat(cells - percent * cells / 100) + "] " + String.format(Locale.ROOT, "%3d%% ", percent);
            barText = meter + words;
            if (barText.length() > width - 1) {
                barText = barText.substring(0, width - 2) + "…";
            }
            redraw();
            return;
        }
        String key = p.path("step").asText() + " " + phase + " " + (percent < 0 ? "" : percent / 10);
        if (!key.equals(lastKey)) {
            lastKey = key;
            out.println(uuid + " " + status + " " + p.path("step").asText() + ": " + words);
            out.flush();
        }
    }

    /** The bar goes (the compose ended). */
    void done() {
        clear();
        barText = "";
    }

    private void clear() {
        if (bar && !barText.isEmpty()) {
            out.print("\r\033[K");
        }
    }

    private void redraw() {
        if (bar && !barText.isEmpty()) {
            out.print(barText);
        }
        out.flush();
    }

    /** {@code configure 74/164 packages (perl), 41 MB at 12 MB/s, 3m05s, about 1m20s left}. */
    static String describe(JsonNode p, boolean percent) {
        StringBuilder s = new StringBuilder(p.path("phase").asText());
        long total = p.path("total").asLong();
        String unit = p.path("unit").asText();
        if (total > 0 && unit.equals("%") && percent) {
            s.append(' ').append(p.path("done").asLong()).append('%');
        } else if (total > 0 && !unit.equals("%")) {
            s.append(' ').append(p.path("done").asLong()).append('/').append(total).append(' ').append(unit);
        }
        if (!p.path("item").asText().isEmpty()) {
            s.append(" (").append(p.path("item").asText()).append(')');
        }
        long bytes = p.path("bytes").asLong();
        if (bytes > 0) {
            s.append(", ").append(size(bytes));
            long rate = p.path("rate").asLong();
            if (rate > 0) {
                s.append(" at ").append(size(rate)).append("/s");
            }
        }
        double elapsed = p.path("updated").asDouble() - p.path("step_started").asDouble();
        if (elapsed > 0) {
            s.append(", ").append(duration(Math.round(elapsed)));
        }
        if (p.has("eta_seconds")) {
            s.append(", about ").append(duration(p.path("eta_seconds").asLong())).append(" left");
        }
        return s.toString();
    }

    /** 41 MB, 1.2 GB (decimal units). */
    static String size(long bytes) {
        String[] units = {"B", "kB", "MB", "GB", "TB"};
        double v = bytes;
        int u = 0;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return (u == 0 || v >= 10 ? String.valueOf(Math.round(v)) : String.format(Locale.ROOT, "%.1f", v)) + " "
                + units[u];
    }

    /** 45s, 3m05s, 1h02m. */
    static String duration(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", seconds / 3600, seconds % 3600 / 60);
    }
}
