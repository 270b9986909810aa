package dev.kiln.kickstart;

import dev.kiln.blueprint.Blueprint;
import dev.kiln.blueprint.Customizations;
import dev.kiln.blueprint.TreeCustomizations;
import dev.kiln.source.Distro;
import dev.kiln.source.Distros;
import dev.kiln.source.Source;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Renders {@code final-kickstart.ks}, the build's whole plan: the type's template with the blueprint's
 * customizations merged in (as lorax did: blueprint values replace the template's timezone, lang, keyboard, and
 * add to its firewall, services and kernel command line), the sources, and one exact pin per package.
 */
public final class FinalKickstart {

    private static final Pattern SAFE_WORD = Pattern.compile("[A-Za-z0-9._/:@+,=-]+");

    private FinalKickstart() {
    }

    /**
     * @param template the type's template
     * @param frozen   the frozen blueprint
     * @param pins     {@code name=version} of every package of the frozen set, sorted
     */
    public static String render(String header, Kickstart template, Blueprint frozen, List<Source> sources,
            List<String> pins) {
        Map<String, Object> c = frozen.customizations();
        List<String> out = new ArrayList<>();
        out.add("# " + header);
        out.add("# Written by Kiln's kickstart step from the type's template and the frozen blueprint;");
        out.add("# the build step executes exactly this plan.");
        Set<String> replaced = new LinkedHashSet<>();
        if (c.get("timezone") instanceof Map<?, ?> tz && tz.get("timezone") != null) {
            replaced.add("timezone");
        }
        if (c.get("locale") instanceof Map<?, ?> l && (l.get("languages") != null)) {
            replaced.add("lang");
        }
        if (c.get("locale") instanceof Map<?, ?> l && l.get("keyboard") != null) {
            replaced.add("keyboard");
        }
        boolean hasRootPassword = false;
        for (Object u : list(c.get("user"))) {
            if (u instanceof Map<?, ?> m && "root".equals(m.get("name")) && m.get("password") != null) {
                hasRootPassword = true;
            }
        }
        if (hasRootPassword) {
            replaced.add("rootpw");
        }
        for (String cmd : template.commands()) {
            String name = cmd.split("\\s+", 2)[0];
            if (replaced.contains(name) || List.of("firewall", "services", "bootloader").contains(name)) {
                continue;
            }
            out.add(cmd);
        }
        for (Source s : sources) {
            if (s.isDeb()) {
                out.add("repo --name=" + arg(s.id()) + " --baseurl=" + arg(s.url()) + " --suites="
                        + arg(String.join(" ", s.suites())) + " --components=" + arg(String.join(" ", s.components())));
            }
        }
        if (c.get("timezone") instanceof Map<?, ?> tz && tz.get("timezone") != null) {
            String ntp = tz.get("ntpservers") instanceof List<?> servers && !servers.isEmpty()
                    ? " --ntpservers=" + arg(String.join(",", servers.stream().map(String::valueOf).toList())) : "";
            out.add("timezone " + arg(String.valueOf(tz.get("timezone"))) + ntp);
        }
        if (c.get("locale") instanceof Map<?, ?> l) {
            if (l.get("languages") instanceof List<?> langs && !langs.isEmpty()) {
                String extra = langs.size() > 1 ? " --addsupport="
                        + arg(String.join(",", langs.subList(1, langs.size()).stream().map(String::valueOf).toList())) : "";
                out.add("lang " + arg(String.valueOf(langs.get(0))) + extra);
            }
            if (l.get("keyboard") != null) {
                out.add("keyboard " + arg(String.valueOf(l.get("keyboard"))));
            }
        }
        out.add(firewall(template.command("firewall"), c.get("firewall")));
        String services = services(template.command("services"), c.get("services"));
        if (services != null) {
            out.add(services);
        }
        String bootloader = bootloader(template.command("bootloader"), c.get("kernel"));
        if (bootloader != null) {
            out.add(bootloader);
        }
        out.addAll(layout(c));
        if (c.get("hostname") instanceof String h) {
            out.add("network --hostname=" + arg(h));
        }
        for (Object o : list(c.get("sshkey"))) {
            Map<?, ?> k = (Map<?, ?>) o;
            out.add("sshkey --user " + arg(String.valueOf(k.get("user"))) + " " + arg(String.valueOf(k.get("key"))));
        }
        for (Object o : list(c.get("user"))) {
            Map<?, ?> u = (Map<?, ?>) o;
            if ("root".equals(u.get("name"))) {
                if (u.get("password") instanceof String pw) {
                    out.add("rootpw " + (pw.startsWith("$") ? "--iscrypted " : "--plaintext ") + arg(pw));
                }
            } else {
                out.add(user(u));
            }
            if (u.get("key") instanceof String key) {
                out.add("sshkey --user " + arg(String.valueOf(u.get("name"))) + " " + arg(key));
            }
        }
        for (Object o : list(c.get("group"))) {
            Map<?, ?> g = (Map<?, ?>) o;
            out.add("group --name=" + arg(String.valueOf(g.get("name")))
                    + (g.get("gid") != null ? " --gid=" + arg(String.valueOf(g.get("gid"))) : ""));
        }
        out.addAll(treeData(c, frozen.distro()));
        out.add("");
        out.add("%packages");
        out.addAll(pins);
        out.add("%end");
        for (String post : template.posts()) {
            out.add("");
            out.add("%post");
            out.add(post.stripTrailing());
            out.add("%end");
        }
        String text = String.join("\n", out) + "\n";
        requireSameStructure(text, out, template, pins);
        return text;
    }

    /**
     * The plan read back must be the plan written: the same command lines, exactly the pins as packages and the
     * template's {@code %post} scripts only. A value that could change the plan's structure was refused at
     * submission; this is the second lock on the same door.
     */
    private static void requireSameStructure(String text, List<String> lines, Kickstart template, List<String> pins) {
        List<String> commands = new ArrayList<>();
        for (String line : lines) {
            if (line.equals("%packages")) {
                break;
            }
            if (!line.isBlank() && !line.startsWith("#")) {
                commands.add(line.strip());
            }
        }
        Kickstart back = Kickstart.parse(text);
        if (!back.commands().equals(commands) || !back.packages().equals(pins)
                || back.posts().size() != template.posts().size()) {
            throw new IllegalStateException("the rendered plan does not read back as written; refusing it");
        }
        for (int i = 0; i < back.posts().size(); i++) {
            if (!back.posts().get(i).strip().equals(template.posts().get(i).strip())) {
                throw new IllegalStateException("the rendered plan's %post " + (i + 1) + " is not the template's");
            }
        }
    }

    /**
     * The disk layout: one {@code part MOUNT --fstype=ext4 --size=MiB} per mount point; on LVM
     * ({@link Customizations#lvm}) {@code /boot} stays a partition (512 MiB unless the blueprint says), one physical
     * volume holds the volume group {@code rootvg}, and every other mount point, the root included, is a
     * {@code logvol} named as osbuild-composer names them ({@code rootlv}, {@code varlv}).
     */
    static List<String> layout(Map<String, Object> c) {
        Map<String, Long> sizes = new java.util.TreeMap<>(); // the root first ("/" sorts first), parents before children
        for (Object o : list(c.get("filesystem"))) {
            Map<?, ?> fs = (Map<?, ?>) o;
            sizes.put(String.valueOf(fs.get("mountpoint")), (Customizations.filesystemSize(fs) + (1 << 20) - 1) / (1 << 20));
        }
        List<String> out = new ArrayList<>();
        if (c.get("disk") instanceof Map<?, ?> disk) {
            return diskLayout(disk);
        }
        if (!Customizations.lvm(c)) {
            sizes.forEach((m, mib) -> out.add("part " + arg(m) + " --fstype=ext4 --size=" + mib));
            return out;
        }
        out.add("part /boot --fstype=ext4 --size=" + sizes.getOrDefault("/boot", 512L));
        out.add("part pv.01 --size=1 --grow");
        out.add("volgroup rootvg pv.01");
        out.add("logvol / --vgname=rootvg --name=rootlv --fstype=ext4 --size=" + sizes.getOrDefault("/", 0L));
        sizes.forEach((m, mib) -> {
            if (!m.equals("/") && !m.equals("/boot")) {
                out.add("logvol " + arg(m) + " --vgname=rootvg --name=" + Customizations.logicalVolume(m)
                        + " --fstype=ext4 --size=" + mib);
            }
        });
        return out;
    }

    /**
     * The layout of a {@code [customizations.disk]}: its partitions in its order, the volume group where its lvm
     * partition is (named {@code rootvg} unless it says), a root ext4 partition at the end when it has none, a
     * 512 MiB /boot partition first when the root is a logical volume and there is no /boot.
     */
    static List<String> diskLayout(Map<?, ?> disk) {
        List<String> out = new ArrayList<>();
        boolean root = false;
        boolean boot = false;
        boolean rootLogical = false;
        for (Object o : list(disk.get("partitions"))) {
            Map<?, ?> part = (Map<?, ?>) o;
            if ("lvm".equals(part.get("type"))) {
                String vg = part.get("name") instanceof String n ? n : "rootvg";
                out.add("part pv.01 --size=" + mib(part.get("minsize")));
                out.add("volgroup " + vg + " pv.01");
                for (Object l : list(part.get("logical_volumes"))) {
                    Map<?, ?> lv = (Map<?, ?>) l;
                    String mount = mountOf(lv);
                    String name = lv.get("name") instanceof String n ? n
                            : mount.equals("swap") ? "swaplv" : Customizations.logicalVolume(mount);
                    out.add("logvol " + arg(mount) + " --vgname=" + vg + " --name=" + name + volume(lv));
                    root |= mount.equals("/");
                    rootLogical |= mount.equals("/");
                }
            } else {
                String mount = mountOf(part);
                out.add("part " + arg(mount) + volume(part));
                root |= mount.equals("/");
                boot |= mount.equals("/boot");
            }
        }
        if (!root) {
            out.add("part / --fstype=ext4 --size=0");
        }
        if (rootLogical && !boot) {
            out.add(0, "part /boot --fstype=ext4 --size=512");
        }
        if (disk.get("minsize") != null) {
            out.add("kiln-disk --minsize=" + mib(disk.get("minsize")));
        }
        return out;
    }

    private static String mountOf(Map<?, ?> volume) {
        return "swap".equals(volume.get("fs_type")) ? "swap" : String.valueOf(volume.get("mountpoint"));
    }

    private static String volume(Map<?, ?> v) {
        String fs = v.get("fs_type") instanceof String f ? f : "ext4";
        return " --fstype=" + fs + " --size=" + mib(v.get("minsize"))
                + (v.get("label") instanceof String l ? " --label=" + arg(l) : "");
    }

    private static long mib(Object size) {
        return size == null ? 0 : (Customizations.size(size) + (1 << 20) - 1) / (1 << 20);
    }

    /**
     * The plan lines of the customizations that carry data: {@code directory}, {@code file} (its content named by
     * SHA-256), {@code aptsource} (keys by SHA-256), {@code cacert} (by SHA-256). The build takes each piece of data
     * from the frozen blueprint and checks it against its digest.
     */
    static List<String> treeData(Map<String, Object> c, String distro) {
        List<String> out = new ArrayList<>();
        for (Object o : list(c.get("directories"))) {
            Map<?, ?> d = (Map<?, ?>) o;
            out.add("directory --path=" + arg(String.valueOf(d.get("path"))) + owner(d)
                    + (Boolean.TRUE.equals(d.get("ensure_parents")) ? " --ensure-parents" : ""));
        }
        for (Object o : list(c.get("files"))) {
            Map<?, ?> f = (Map<?, ?>) o;
            String data = f.get("data") instanceof String s ? s : "";
            out.add("file --path=" + arg(String.valueOf(f.get("path"))) + owner(f) + " --sha256="
                    + TreeCustomizations.digest(data));
        }
        String codename = Distros.distro(distro).map(Distro::codename).orElse("");
        for (Object o : list(c.get("repositories"))) {
            Map<?, ?> r = (Map<?, ?>) o;
            StringBuilder line = new StringBuilder("aptsource --id=" + arg(String.valueOf(r.get("id"))));
            line.append(" --file=").append(arg(TreeCustomizations.fileName(r.containsKey("filename")
                    ? r.get("filename") : r.get("id"))));
            List<String> uris = new ArrayList<>(list(r.get("baseurls")).stream().map(String::valueOf).toList());
            if (r.get("mirrorlist") instanceof String m) {
                uris.add("mirror+" + m);
            }
            line.append(" --uris=").append(arg(String.join(",", uris)));
            List<?> suites = list(r.get("suites"));
            line.append(" --suites=").append(arg(suites.isEmpty() ? codename
                    : String.join(",", suites.stream().map(String::valueOf).toList())));
            List<?> components = list(r.get("components"));
            boolean flat = suites.stream().anyMatch(x -> String.valueOf(x).endsWith("/"));
            if (!flat) {
                line.append(" --components=").append(arg(components.isEmpty() ? "main"
                        : String.join(",", components.stream().map(String::valueOf).toList())));
            }
            if (Boolean.FALSE.equals(r.get("enabled"))) {
                line.append(" --disabled");
            }
            if (Boolean.FALSE.equals(r.get("gpgcheck"))) {
                line.append(" --trusted");
            }
            if (r.get("priority") instanceof Number n) {
                line.append(" --priority=").append(n.longValue());
            }
            List<?> keys = list(r.get("gpgkeys"));
            if (!keys.isEmpty()) {
                line.append(" --keys=").append(String.join(",",
                        keys.stream().map(k -> TreeCustomizations.digest(String.valueOf(k))).toList()));
            }
            out.add(line.toString());
        }
        if (c.get("cacerts") instanceof Map<?, ?> ca) {
            for (Object pem : list(ca.get("pem_certs"))) {
                out.add("cacert --sha256=" + TreeCustomizations.digest(String.valueOf(pem)));
            }
        }
        return out;
    }

    private static String owner(Map<?, ?> entry) {
        StringBuilder s = new StringBuilder();
        if (entry.get("mode") != null) {
            s.append(" --mode=").append(TreeCustomizations.mode(entry.get("mode")));
        }
        for (String field : List.of("user", "group")) {
            if (entry.get(field) != null) {
                s.append(" --").append(field).append('=').append(arg(String.valueOf(entry.get(field))));
            }
        }
        return s.toString();
    }

    private static String user(Map<?, ?> u) {
        StringBuilder s = new StringBuilder("user --name=" + arg(String.valueOf(u.get("name"))));
        if (u.get("description") instanceof String d) {
            s.append(" --gecos=").append(arg(d));
        }
        if (u.get("home") != null) {
            s.append(" --homedir=").append(arg(String.valueOf(u.get("home"))));
        }
        if (u.get("shell") != null) {
            s.append(" --shell=").append(arg(String.valueOf(u.get("shell"))));
        }
        if (u.get("groups") instanceof List<?> groups && !groups.isEmpty()) {
            s.append(" --groups=").append(arg(String.join(",", groups.stream().map(String::valueOf).toList())));
        }
        if (u.get("uid") != null) {
            s.append(" --uid=").append(arg(String.valueOf(u.get("uid"))));
        }
        if (u.get("gid") != null) {
            s.append(" --gid=").append(arg(String.valueOf(u.get("gid"))));
        }
        if (u.get("password") instanceof String pw) {
            s.append(pw.startsWith("$") ? " --iscrypted" : " --plaintext").append(" --password=").append(arg(pw));
        }
        if (u.get("expiredate") instanceof Number days) { // checked at submission: whole days since 1970-01-01
            s.append(" --expiredate=").append(days.longValue());
        }
        if (Boolean.TRUE.equals(u.get("force_password_reset"))) {
            s.append(" --forcepasswordreset");
        }
        return s.toString();
    }

    private static String firewall(String template, Object blueprint) {
        Set<String> parts = new LinkedHashSet<>();
        boolean enabled = template == null || !template.contains("--disabled");
        if (template != null) {
            for (String w : template.split("\\s+")) {
                if (w.startsWith("--port=") || w.startsWith("--service=")) {
                    parts.add(w);
                }
            }
        }
        if (blueprint instanceof Map<?, ?> fw) {
            enabled = true;
            for (Object p : list(fw.get("ports"))) {
                parts.add("--port=" + arg(String.valueOf(p)));
            }
            if (fw.get("services") instanceof Map<?, ?> s) {
                for (Object n : list(s.get("enabled"))) {
                    parts.add("--service=" + arg(String.valueOf(n)));
                }
                for (Object n : list(s.get("disabled"))) {
                    parts.remove("--service=" + arg(String.valueOf(n)));
                    parts.remove("--service=" + n);
                    parts.add("--remove-service=" + arg(String.valueOf(n)));
                }
            }
            for (Object z : list(fw.get("zones"))) { // --zone=NAME:SOURCE,SOURCE (a zone's name has no colon)
                Map<?, ?> zone = (Map<?, ?>) z;
                List<?> sources = list(zone.get("sources"));
                if (!sources.isEmpty()) {
                    parts.add("--zone=" + arg(zone.get("name") + ":"
                            + String.join(",", sources.stream().map(String::valueOf).toList())));
                }
            }
        }
        return enabled ? ("firewall --enabled " + String.join(" ", parts)).strip() : "firewall --disabled";
    }

    private static String services(String template, Object blueprint) {
        Set<String> enabled = new LinkedHashSet<>();
        Set<String> disabled = new LinkedHashSet<>();
        Set<String> masked = new LinkedHashSet<>();
        if (template != null) {
            for (String w : template.split("\\s+")) {
                if (w.startsWith("--enabled=")) {
                    enabled.addAll(List.of(w.substring(10).split(",")));
                } else if (w.startsWith("--disabled=")) {
                    disabled.addAll(List.of(w.substring(11).split(",")));
                }
            }
        }
        if (blueprint instanceof Map<?, ?> s) {
            list(s.get("enabled")).forEach(n -> enabled.add(String.valueOf(n)));
            list(s.get("disabled")).forEach(n -> {
                enabled.remove(String.valueOf(n));
                disabled.add(String.valueOf(n));
            });
            list(s.get("masked")).forEach(n -> masked.add(String.valueOf(n)));
        }
        if (enabled.isEmpty() && disabled.isEmpty() && masked.isEmpty()) {
            return null;
        }
        return ("services" + (enabled.isEmpty() ? "" : " --enabled=" + arg(String.join(",", enabled)))
                + (disabled.isEmpty() ? "" : " --disabled=" + arg(String.join(",", disabled)))
                + (masked.isEmpty() ? "" : " --masked=" + arg(String.join(",", masked))));
    }

    private static String bootloader(String template, Object kernel) {
        String append = "";
        if (template != null) {
            int i = template.indexOf("--append=\"");
            if (i >= 0) {
                append = template.substring(i + 10, template.indexOf('"', i + 10));
            }
        }
        if (kernel instanceof Map<?, ?> k && k.get("append") instanceof String extra) {
            append = (append + " " + extra).strip();
        }
        if (template == null && append.isEmpty()) {
            return null;
        }
        return "bootloader --append=" + arg(append);
    }

    private static List<?> list(Object value) {
        return value instanceof List<?> l ? l : List.of();
    }

    /** A value as one word of a plan line: bare when it holds only safe characters, else {@link #quote quoted}. */
    static String arg(String value) {
        return SAFE_WORD.matcher(value).matches() ? value : quote(value);
    }

    /**
     * Double-quoted with backslash escapes. Values were checked at submission; a line break, NUL or other control
     * character is refused here too, so that no value can end its line and start a command or section of its own.
     */
    static String quote(String value) {
        if (value.codePoints().anyMatch(cp -> Character.isISOControl(cp) || Character.getType(cp) == Character.LINE_SEPARATOR
                || Character.getType(cp) == Character.PARAGRAPH_SEPARATOR)) {
            throw new IllegalArgumentException("a value of the plan holds a control character or line break");
        }
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
