package dev.kiln.blueprint;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The grammar of every customization Kiln applies, checked when a blueprint is pushed and again when a compose is
 * submitted: a value that does not match its field's grammar is refused with a message naming the field, so no
 * value that reaches the build can be more than the data it claims to be (no line break, NUL, quote or option
 * where a name, number or path is expected). Keys Kiln does not apply are stored as they came and never reach the
 * plan.
 */
public final class Customizations {

    static final Pattern HOSTNAME = Pattern.compile(
            "(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*");
    static final Pattern IPV4 = Pattern.compile("((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])");
    static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}");
    private static final Pattern NET4 = Pattern.compile(
            "((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(/(3[0-2]|[12]?[0-9]))?");
    private static final Pattern NET6 = Pattern.compile("[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?");
    private static final Pattern MAC = Pattern.compile("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}");
    /** firewalld's zones; Kiln's nftables rules give them meaning (see the customizer). */
    public static final Set<String> FIREWALL_ZONES = Set.of("block", "dmz", "drop", "external", "home", "internal",
            "public", "trusted", "work");
    static final Pattern ACCOUNT = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
    private static final Pattern UNIT = Pattern.compile("[a-zA-Z0-9_][a-zA-Z0-9:_.@-]{0,255}");
    private static final Pattern SERVICE_NAME = Pattern.compile("[a-zA-Z0-9_][a-zA-Z0-9_+.-]{0,63}");
    private static final Pattern PORT = Pattern.compile("(?:([0-9]{1,5})(?:-([0-9]{1,5}))?|[a-z][a-z0-9-]{0,63}):(tcp|udp)");
    private static final Pattern ZONE = Pattern.compile("[A-Za-z0-9_+][A-Za-z0-9_+-]{0,63}(/[A-Za-z0-9_+][A-Za-z0-9_+-]{0,63}){0,3}");
    private static final Pattern LOCALE = Pattern.compile("[a-zA-Z]{2,3}(_[A-Z]{2})?(\\.[A-Za-z0-9-]{1,32})?(@[a-z]{1,32})?");
    private static final Pattern KEYMAP = Pattern.compile("[a-zA-Z0-9_][a-zA-Z0-9_-]{0,63}");
    private static final Pattern PACKAGE = Pattern.compile("[a-z0-9][a-z0-9+.-]{1,127}");
    /** An OpenSSH public key line: type, base64 body, an optional printable comment; no quotes or backslashes. */
    private static final Pattern SSH_KEY =
            Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9@._-]{0,63} [A-Za-z0-9+/]{4,16384}={0,3}( [\\x20-\\x7E&&[^\"\\\\]]{0,1024})?");
    /** crypt(3): $id$[rounds=N$]salt$hash with the hash alphabet only (SHA-512, SHA-256, MD5, yescrypt, bcrypt). */
    private static final Pattern PASSWORD_HASH = Pattern.compile("\\$(1|5|6|y|gy|7|2a|2b|2y)\\$[./A-Za-z0-9$=,]{1,512}");
    /** An absolute path of plain names: no {@code .} or {@code ..} element, nothing a shell or GRUB would read. */
    static final Pattern PATH = Pattern.compile("(/(?!\\.\\.?(/|$))[A-Za-z0-9._+-]{1,255}){1,32}");
    /**
     * Kernel arguments: words of letters, digits and {@code . _ , : = / + @ ~ -} separated by spaces; no quotes,
     * {@code $}, {@code ;} or anything else GRUB's script language or a shell would act on.
     */
    private static final Pattern KERNEL_APPEND =
            Pattern.compile("(?=.{0,2048}$) *([A-Za-z0-9._,:=/+@~-]+( +[A-Za-z0-9._,:=/+@~-]+)*)? *");
    /** Free text (a user's description, a plain password): no control or line-separator characters. */
    static final Pattern TEXT = Pattern.compile("[^\\p{Cc}\\p{Zl}\\p{Zp}]{0,256}");
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,20})\\s*(B|kB|KB|KiB|MB|MiB|GB|GiB|TB|TiB)?");
    /** Ids of accounts in the image: regular and system ids, below the nobody/overflow ids. */
    static final long MAX_ID = 65_533;
    /** The largest image or file system a blueprint or compose may ask for: 16 TiB. */
    public static final long MAX_SIZE = 16L << 40;
    private static final Set<String> USER_KEYS = Set.of("name", "description", "password", "key", "home", "shell",
            "groups", "uid", "gid", "expiredate", "force_password_reset");

    private Customizations() {
    }

    /**
     * A file-system size as blueprints write it: a number of bytes, or a string with a unit ({@code "20 GiB"},
     * {@code "512 MB"}); 0 when it is neither, not positive, or over 16 TiB.
     */
    public static long size(Object size) {
        long bytes;
        if (size instanceof Number n && (size instanceof Long || size instanceof Integer)) {
            bytes = n.longValue();
        } else if (size instanceof String s && SIZE.matcher(s.strip()).matches()) {
            Matcher m = SIZE.matcher(s.strip());
            m.matches();
            long unit = switch (m.group(2) == null ? "B" : m.group(2)) {
                case "kB", "KB" -> 1000L;
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
        return bytes > 0 && bytes <= MAX_SIZE ? bytes : 0;
    }

    /** The size of a {@code [[customizations.filesystem]]} entry: {@code minsize}, or {@code size} (its alias). */
    public static long filesystemSize(Map<?, ?> fs) {
        return size(fs.containsKey("minsize") ? fs.get("minsize") : fs.get("size"));
    }

    /** Every problem found, each naming its field; empty when the customizations are fine. */
    public static List<String> problems(Map<String, Object> c) {
        List<String> p = new ArrayList<>();
        if (c.containsKey("hostname")) {
            check(p, "hostname", c.get("hostname"), HOSTNAME);
        }
        if (c.containsKey("kernel")) {
            Map<?, ?> k = table(p, "kernel", c.get("kernel"));
            if (k.containsKey("append")) {
                check(p, "kernel.append", k.get("append"), KERNEL_APPEND);
            }
            if (k.containsKey("name")) {
                check(p, "kernel.name", k.get("name"), PACKAGE);
            }
        }
        for (Map<?, ?> key : tables(p, "sshkey", c.get("sshkey"))) {
            check(p, "sshkey.user", key.get("user"), ACCOUNT);
            check(p, "sshkey.key", key.get("key"), SSH_KEY);
        }
        for (Map<?, ?> user : tables(p, "user", c.get("user"))) {
            user(p, user);
        }
        for (Map<?, ?> group : tables(p, "group", c.get("group"))) {
            check(p, "group.name", group.get("name"), ACCOUNT);
            if (group.containsKey("gid")) {
                id(p, "group.gid", group.get("gid"));
            }
        }
        if (c.containsKey("timezone")) {
            Map<?, ?> tz = table(p, "timezone", c.get("timezone"));
            if (tz.containsKey("timezone")) {
                Object zone = tz.get("timezone");
                check(p, "timezone.timezone", zone, ZONE);
            }
            for (Object server : list(p, "timezone.ntpservers", tz.get("ntpservers"))) {
                if (!(server instanceof String s && (HOSTNAME.matcher(s).matches() || IPV4.matcher(s).matches()
                        || IPV6.matcher(s).matches()))) {
                    p.add("timezone.ntpservers: not a host name or address: " + show(server));
                }
            }
        }
        if (c.containsKey("locale")) {
            Map<?, ?> locale = table(p, "locale", c.get("locale"));
            list(p, "locale.languages", locale.get("languages")).forEach(l -> check(p, "locale.languages", l, LOCALE));
            if (locale.containsKey("keyboard")) {
                check(p, "locale.keyboard", locale.get("keyboard"), KEYMAP);
            }
        }
        if (c.containsKey("firewall")) {
            Map<?, ?> fw = table(p, "firewall", c.get("firewall"));
            list(p, "firewall.ports", fw.get("ports")).forEach(port -> port(p, port));
            if (fw.containsKey("services")) {
                Map<?, ?> s = table(p, "firewall.services", fw.get("services"));
                for (String k : List.of("enabled", "disabled")) {
                    list(p, "firewall.services." + k, s.get(k)).forEach(n -> check(p, "firewall.services." + k, n, SERVICE_NAME));
                }
            }
            for (Map<?, ?> zone : tables(p, "firewall.zones", fw.get("zones"))) {
                if (!(zone.get("name") instanceof String n && FIREWALL_ZONES.contains(n))) {
                    p.add("firewall.zones.name: one of " + String.join(", ", FIREWALL_ZONES.stream().sorted().toList())
                            + ": " + show(zone.get("name")));
                }
                List<?> sources = list(p, "firewall.zones.sources", zone.get("sources"));
                if (sources.size() > 256) {
                    p.add("firewall.zones.sources: at most 256 per zone");
                }
                for (Object src : sources) {
                    if (!(src instanceof String a && (NET4.matcher(a).matches() || NET6.matcher(a).matches()
                            || MAC.matcher(a).matches()))) {
                        p.add("firewall.zones.sources: an IPv4 or IPv6 address or network (a.b.c.d/n) or a MAC "
                                + "address: " + show(src));
                    }
                }
            }
        }
        if (c.containsKey("services")) {
            Map<?, ?> s = table(p, "services", c.get("services"));
            for (String k : List.of("enabled", "disabled", "masked")) {
                list(p, "services." + k, s.get(k)).forEach(n -> check(p, "services." + k, n, UNIT));
            }
        }
        TreeCustomizations.problems(p, c);
        DiskCustomization.problems(p, c);
        Set<String> mounts = new java.util.HashSet<>();
        List<Map<?, ?>> filesystems = tables(p, "filesystem", c.get("filesystem"));
        if (filesystems.size() > 32) {
            p.add("filesystem: at most 32 mount points");
        }
        for (Map<?, ?> fs : filesystems) {
            String why = mountPointProblem(fs.get("mountpoint"));
            if (why != null) {
                p.add("filesystem.mountpoint: " + why + ": " + show(fs.get("mountpoint")));
            } else if (!mounts.add((String) fs.get("mountpoint"))) {
                p.add("filesystem.mountpoint: listed twice: " + show(fs.get("mountpoint")));
            }
            if (filesystemSize(fs) <= 0) {
                p.add("filesystem.minsize: must be a positive number of bytes or a size such as \"4 GiB\", at most "
                        + "16 TiB: " + show(fs.containsKey("minsize") ? fs.get("minsize") : fs.get("size")));
            }
        }
        if (c.containsKey("partitioning_mode") && !List.of("raw", "lvm", "auto-lvm").contains(c.get("partitioning_mode"))) {
            p.add("partitioning_mode: one of raw, lvm, auto-lvm: " + show(c.get("partitioning_mode")));
        }
        return p;
    }

    /**
     * Whether a disk of these customizations has its file systems on LVM (osbuild-composer's meaning of
     * {@code partitioning_mode}): {@code lvm} always, {@code auto-lvm} when a mount point other than {@code /} and
     * {@code /boot} is asked for, {@code raw} (Kiln's default; osbuild-composer's is auto-lvm) never.
     */
    public static boolean lvm(Map<String, Object> c) {
        if (c.containsKey("disk")) {
            return DiskCustomization.lvm(c);
        }
        Object mode = c.get("partitioning_mode");
        if ("lvm".equals(mode)) {
            return true;
        }
        if (!"auto-lvm".equals(mode)) {
            return false;
        }
        for (Object o : c.get("filesystem") instanceof List<?> l ? l : List.of()) {
            if (o instanceof Map<?, ?> fs && !List.of("/", "/boot").contains(fs.get("mountpoint"))) {
                return true;
            }
        }
        return false;
    }

    /** An LVM logical volume's name for a mount point, as osbuild-composer names them: {@code /var/log} → {@code var_loglv}. */
    public static String logicalVolume(String mount) {
        return (mount.equals("/") ? "root" : mount.substring(1).replace('/', '_')) + "lv";
    }

    /** Mount points that belong to the system (osbuild-composer's list): refused, and everything below them. */
    private static final List<String> SYSTEM_MOUNTS = List.of("/bin", "/boot/efi", "/dev", "/etc", "/lib", "/lib64",
            "/lost+found", "/proc", "/run", "/sbin", "/sys", "/sysroot", "/var/lock", "/var/run");

    /** Why a mount point is refused (osbuild-composer's rules), or null when it is fine. */
    public static String mountPointProblem(Object mountpoint) {
        if (!(mountpoint instanceof String m) || !(m.equals("/") || PATH.matcher(m).matches())) {
            return "an absolute path of plain names (no . or .., no trailing /)";
        }
        for (String system : SYSTEM_MOUNTS) {
            if (m.equals(system) || m.startsWith(system + "/")) {
                return system + " belongs to the system and cannot be a mount point of its own, nor anything below it";
            }
        }
        if (m.startsWith("/usr/")) {
            return "/usr may be a mount point, what is below it may not";
        }
        return null;
    }

    private static void user(List<String> p, Map<?, ?> user) {
        check(p, "user.name", user.get("name"), ACCOUNT);
        unknownKeys(p, "user", user, USER_KEYS);
        if (user.containsKey("description")) {
            check(p, "user.description", user.get("description"), TEXT);
            if (user.get("description") instanceof String d && d.contains(":")) {
                p.add("user.description: may not contain ':'");
            }
        }
        if (user.containsKey("password")) {
            Object pw = user.get("password");
            if (pw instanceof String s && s.startsWith("$")) {
                check(p, "user.password (a crypt(3) hash)", pw, PASSWORD_HASH);
            } else if (!(pw instanceof String s && !s.isEmpty() && TEXT.matcher(s).matches())) {
                p.add("user.password: a plain password is 1 to 256 characters without control characters or "
                        + "line breaks");
            }
        }
        if (user.containsKey("key")) {
            check(p, "user.key", user.get("key"), SSH_KEY);
        }
        for (String field : List.of("home", "shell")) {
            if (user.containsKey(field)) {
                check(p, "user." + field, user.get(field), PATH);
            }
        }
        list(p, "user.groups", user.get("groups")).forEach(g -> check(p, "user.groups", g, ACCOUNT));
        for (String field : List.of("uid", "gid")) {
            if (user.containsKey(field)) {
                id(p, "user." + field, user.get(field));
            }
        }
        if (user.containsKey("expiredate")) {
            Object e = user.get("expiredate");
            if (!((e instanceof Long || e instanceof Integer) && ((Number) e).longValue() >= -1
                    && ((Number) e).longValue() <= 1_000_000)) {
                p.add("user.expiredate: must be a number of days since 1970-01-01: " + show(e));
            }
        }
        if (user.containsKey("force_password_reset") && !(user.get("force_password_reset") instanceof Boolean)) {
            p.add("user.force_password_reset: must be true or false");
        }
    }

    private static void port(List<String> p, Object port) {
        Matcher m = port instanceof String s ? PORT.matcher(s) : null;
        if (m == null || !m.matches()) {
            p.add("firewall.ports: not PORT:PROTOCOL or SERVICE:PROTOCOL: " + show(port));
            return;
        }
        for (int g = 1; g <= 2; g++) {
            if (m.group(g) != null && (Integer.parseInt(m.group(g)) < 1 || Integer.parseInt(m.group(g)) > 65535)) {
                p.add("firewall.ports: port out of range 1-65535: " + show(port));
            }
        }
    }

    /** One problem per key of {@code entry} that is not among {@code known}. */
    static void unknownKeys(List<String> p, String what, Map<?, ?> entry, Set<String> known) {
        for (Object key : entry.keySet()) {
            if (!known.contains(String.valueOf(key))) {
                p.add(what + ": unknown field " + show(key));
            }
        }
    }

    static void id(List<String> p, String field, Object value) {
        if (!((value instanceof Long || value instanceof Integer) && ((Number) value).longValue() >= 0
                && ((Number) value).longValue() <= MAX_ID)) {
            p.add(field + ": must be an integer from 0 to " + MAX_ID + ": " + show(value));
        }
    }

    static void check(List<String> p, String field, Object value, Pattern pattern) {
        if (!(value instanceof String s) || !pattern.matcher(s).matches()) {
            p.add(field + ": invalid value " + show(value));
        }
    }

    static Map<?, ?> table(List<String> p, String field, Object value) {
        if (value instanceof Map<?, ?> m) {
            return m;
        }
        p.add(field + ": must be a table");
        return Map.of();
    }

    static List<?> list(List<String> p, String field, Object value) {
        if (value == null) {
            return List.of();
        }
        if (value instanceof List<?> l) {
            return l;
        }
        p.add(field + ": must be a list");
        return List.of();
    }

    static List<Map<?, ?>> tables(List<String> p, String field, Object value) {
        List<Map<?, ?>> out = new ArrayList<>();
        for (Object item : list(p, field, value)) {
            if (item instanceof Map<?, ?> m) {
                out.add(m);
            } else {
                p.add(field + ": every entry must be a table");
            }
        }
        return out;
    }

    /** A value as an error message may quote it: short, with control characters made visible. */
    static String show(Object value) {
        String s = value instanceof String str ? '"' + str + '"' : String.valueOf(value);
        StringBuilder out = new StringBuilder();
        s.codePoints().limit(80).forEach(cp -> {
            if (Character.isISOControl(cp) || Character.getType(cp) == Character.LINE_SEPARATOR
                    || Character.getType(cp) == Character.PARAGRAPH_SEPARATOR) {
                out.append(String.format("\\u%04x", cp));
            } else {
                out.appendCodePoint(cp);
            }
        });
        return s.codePointCount(0, s.length()) > 80 ? out + "…" : out.toString();
    }
}
