package dev.kiln.kickstart;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks a blueprint's customizations when a compose is submitted, so that a bad value fails the request rather
 * than the build, and no value that reaches the build can be more than the data it claims to be.
 */
public final class Customizations {

    private static final Pattern HOSTNAME =
            Pattern.compile("(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*");
    private static final Pattern ACCOUNT = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
    private static final Pattern UNIT = Pattern.compile("[a-zA-Z0-9:_.@-]+");
    private static final Pattern PORT = Pattern.compile("([0-9]{1,5}(-[0-9]{1,5})?|[a-z][a-z0-9-]*):(tcp|udp)");
    private static final Pattern ZONE = Pattern.compile("[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*");
    private static final Pattern LOCALE = Pattern.compile("[a-zA-Z]{2,3}(_[A-Z]{2})?(\\.[A-Za-z0-9-]+)?(@[a-z]+)?");
    private static final Pattern KEYMAP = Pattern.compile("[a-zA-Z0-9_-]+");
    private static final Pattern SSH_KEY = Pattern.compile("[^\\n\\r\"]+");
    private static final Pattern PASSWORD_HASH = Pattern.compile("\\$(1|5|6|y|2b)\\$[^\\s:]+");
    private static final Pattern PATH = Pattern.compile("/[A-Za-z0-9._/-]*");
    private static final Pattern APPEND = Pattern.compile("[^\\n\\r\"]*");

    private Customizations() {
    }

    private static final Pattern SIZE = Pattern.compile("([0-9]+)\\s*(B|kB|KiB|MB|MiB|GB|GiB|TB|TiB)?");

    /**
     * A file-system size as blueprints write it: a number of bytes, or a string with a unit ({@code "20 GiB"},
     * {@code "512 MB"}); 0 when it is neither. At most 16 TiB.
     */
    public static long rootSize(Object size) {
        long bytes;
        if (size instanceof Number n) {
            bytes = n.longValue();
        } else if (size instanceof String s && SIZE.matcher(s.strip()).matches()) {
            var m = SIZE.matcher(s.strip());
            m.matches();
            long unit = switch (m.group(2) == null ? "B" : m.group(2)) {
                case "kB" -> 1000L;
                case "KiB" -> 1L << 10;
                case "MB" -> 1000_000L;
                case "MiB" -> 1L << 20;
                case "GB" -> 1000_000_000L;
                case "GiB" -> 1L << 30;
                case "TB" -> 1000_000_000_000L;
                case "TiB" -> 1L << 40;
                default -> 1L;
            };
            try {
                bytes = Math.multiplyExact(Long.parseLong(m.group(1)), unit);
            } catch (ArithmeticException | NumberFormatException e) {
                return 0;
            }
        } else {
            return 0;
        }
        return bytes > 0 && bytes <= (16L << 40) ? bytes : 0;
    }

    /** Every problem found, empty when the customizations are fine. */
    public static List<String> problems(Map<String, Object> c) {
        List<String> problems = new ArrayList<>();
        for (Map<?, ?> fs : maps(c.get("filesystem"))) {
            if (!"/".equals(fs.get("mountpoint"))) {
                problems.add("filesystem " + fs.get("mountpoint") + ": Kiln's disks have one file system, /; "
                        + "only its size can be set");
            } else if (rootSize(fs.get("size")) <= 0) {
                problems.add("filesystem / size must be a positive number of bytes or a size such as \"4 GiB\": "
                        + fs.get("size"));
            }
        }
        if (c.get("hostname") instanceof String h && !HOSTNAME.matcher(h).matches()) {
            problems.add("invalid hostname: " + h);
        }
        if (c.get("kernel") instanceof Map<?, ?> k && k.get("append") instanceof String a && !APPEND.matcher(a).matches()) {
            problems.add("kernel append may not contain quotes or line breaks");
        }
        for (Map<?, ?> key : maps(c.get("sshkey"))) {
            check(problems, "sshkey user", key.get("user"), ACCOUNT);
            check(problems, "sshkey key", key.get("key"), SSH_KEY);
        }
        for (Map<?, ?> user : maps(c.get("user"))) {
            check(problems, "user name", user.get("name"), ACCOUNT);
            if (user.get("key") != null) {
                check(problems, "user key", user.get("key"), SSH_KEY);
            }
            if (user.get("home") != null) {
                check(problems, "user home", user.get("home"), PATH);
            }
            if (user.get("shell") != null) {
                check(problems, "user shell", user.get("shell"), PATH);
            }
            if (user.get("description") instanceof String d && (d.contains(":") || d.contains("\n"))) {
                problems.add("user description may not contain ':' or line breaks");
            }
            if (user.get("password") instanceof String pw && pw.startsWith("$") && !PASSWORD_HASH.matcher(pw).matches()) {
                problems.add("user password looks like a hash but is not a crypt(3) hash");
            }
            for (String field : List.of("uid", "gid")) {
                if (user.get(field) != null && !(user.get(field) instanceof Number n && n.longValue() >= 0 && n.longValue() < 4294967295L)) {
                    problems.add("user " + field + " must be a non-negative integer");
                }
            }
            if (user.get("groups") instanceof List<?> groups) {
                groups.forEach(g -> check(problems, "user group", g, ACCOUNT));
            }
        }
        for (Map<?, ?> group : maps(c.get("group"))) {
            check(problems, "group name", group.get("name"), ACCOUNT);
        }
        if (c.get("timezone") instanceof Map<?, ?> tz && tz.get("timezone") instanceof String zone) {
            if (!ZONE.matcher(zone).matches() || zone.contains("..")
                    || (Files.isDirectory(Path.of("/usr/share/zoneinfo")) && !Files.isRegularFile(Path.of("/usr/share/zoneinfo", zone)))) {
                problems.add("unknown timezone: " + zone);
            }
        }
        if (c.get("locale") instanceof Map<?, ?> locale) {
            if (locale.get("languages") instanceof List<?> langs) {
                langs.forEach(l -> check(problems, "locale language", l, LOCALE));
            }
            if (locale.get("keyboard") != null) {
                check(problems, "keyboard", locale.get("keyboard"), KEYMAP);
            }
        }
        if (c.get("firewall") instanceof Map<?, ?> fw) {
            if (fw.get("ports") instanceof List<?> ports) {
                ports.forEach(p -> check(problems, "firewall port", p, PORT));
            }
            if (fw.get("services") instanceof Map<?, ?> s) {
                for (String k : List.of("enabled", "disabled")) {
                    if (s.get(k) instanceof List<?> names) {
                        names.forEach(n -> check(problems, "firewall service", n, KEYMAP));
                    }
                }
            }
        }
        if (c.get("services") instanceof Map<?, ?> s) {
            for (String k : List.of("enabled", "disabled", "masked")) {
                if (s.get(k) instanceof List<?> names) {
                    names.forEach(n -> check(problems, "service", n, UNIT));
                }
            }
        }
        return problems;
    }

    private static void check(List<String> problems, String what, Object value, Pattern pattern) {
        if (!(value instanceof String s) || !pattern.matcher(s).matches()) {
            problems.add("invalid " + what + ": " + value);
        }
    }

    private static List<Map<?, ?>> maps(Object value) {
        List<Map<?, ?>> out = new ArrayList<>();
        if (value instanceof List<?> list) {
            list.forEach(i -> {
                if (i instanceof Map<?, ?> m) {
                    out.add(m);
                }
            });
        }
        return out;
    }
}
