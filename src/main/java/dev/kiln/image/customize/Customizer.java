package dev.kiln.image.customize;

import dev.kiln.kickstart.PlanException;
import dev.kiln.image.fetch.DebArchive;
import dev.kiln.image.sandbox.Chroot;
import dev.kiln.image.sandbox.ToolFailedException;
import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.kickstart.KickstartArgs;
import dev.kiln.kickstart.Kickstart;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Applies the plan's customization commands to an installed tree: hostname, time zone, language, keyboard, groups,
 * users with their keys and passwords, root's password, services (the same symlinks {@code systemctl enable}
 * makes), a firewall (nftables rules), the kernel command line, then the {@code %post} scripts. Values go into
 * files or onto argument lists; passwords go to {@code chpasswd} on its standard input.
 */
public final class Customizer {

    private final Path tree;
    private final Chroot chroot;
    private final ToolRunner tools;
    private final TreeData data;

    /** {@code data}: the blueprint's files, keys and certificates by SHA-256, as the plan names them. */
    public Customizer(Path tree, Chroot chroot, ToolRunner tools, Map<String, String> data) {
        this.tree = tree;
        this.chroot = chroot;
        this.tools = tools;
        this.data = new TreeData(tree, chroot, data);
    }

    public void apply(Kickstart plan) throws IOException, InterruptedException {
        List<KickstartArgs> commands = plan.commands().stream().map(KickstartArgs::parse).toList();
        for (KickstartArgs c : commands) { // groups first: users may name them
            if (c.command().equals("group")) {
                group(c.options().get("name"), c.options().get("gid"));
            }
        }
        for (KickstartArgs c : commands) {
            switch (c.command()) {
                case "network" -> hostname(c.options().get("hostname"));
                case "timezone" -> timezone(c.words().get(0));
                case "lang" -> write("etc/default/locale", "LANG=" + c.words().get(0) + "\n");
                case "keyboard" -> write("etc/default/keyboard", "XKBMODEL=\"pc105\"\nXKBLAYOUT=\"" + c.words().get(0)
                        + "\"\nXKBVARIANT=\"\"\nXKBOPTIONS=\"\"\nBACKSPACE=\"guess\"\n");
                case "user" -> user(c);
                case "rootpw" -> rootpw(c);
                case "firewall" -> firewall(c);
                case "bootloader" -> write("etc/kernel/cmdline", c.options().getOrDefault("append", "").strip() + "\n");
                default -> { }
            }
        }
        for (KickstartArgs c : commands) { // keys last: their users exist by now
            if (c.command().equals("sshkey")) { // sshkey --user NAME "KEY"
                String user = c.options().getOrDefault("user", "");
                List<String> w = c.words();
                sshkey(user.isEmpty() && !w.isEmpty() ? w.get(0) : user, w.isEmpty() ? "" : w.get(w.size() - 1));
            }
        }
        data.apply(commands); // the blueprint's directories, files, apt sources and certificates, owners existing
        for (KickstartArgs c : commands) { // services after the files: a unit the blueprint writes can be enabled
            if (c.command().equals("services")) {
                services(c);
            }
        }
        int n = 0;
        for (String post : plan.posts()) {
            Path script = tree.resolve("tmp/kiln-post-" + (++n) + ".sh");
            Files.writeString(script, post);
            try {
                chroot.run(List.of("/bin/sh", "-e", "/tmp/" + script.getFileName()));
            } catch (ToolFailedException e) {
                throw e.as("%post script " + n + " of " + plan.posts().size() + " (final-kickstart.ks) exited with code "
                        + e.exitCode());
            }
            Files.deleteIfExists(script);
        }
    }

    private void write(String path, String content) throws IOException {
        Path p = tree.resolve(path);
        Files.createDirectories(p.getParent());
        if (Files.isSymbolicLink(p)) {
            Files.delete(p);
        }
        Files.writeString(p, content, StandardCharsets.UTF_8);
    }

    private void hostname(String name) throws IOException {
        if (name == null) {
            return;
        }
        write("etc/hostname", name + "\n");
        write("etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\t" + name + "\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                + "ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
    }

    private void timezone(String zone) throws IOException {
        if (!Files.isRegularFile(tree.resolve("usr/share/zoneinfo").resolve(zone))) {
            throw new PlanException("time zone " + zone + " is not in the image's tzdata (is tzdata in the package set?)");
        }
        Path localtime = tree.resolve("etc/localtime");
        Files.deleteIfExists(localtime);
        Files.createSymbolicLink(localtime, Path.of("/usr/share/zoneinfo", zone));
        write("etc/timezone", zone + "\n");
    }

    private boolean exists(String db, String name) throws IOException {
        Path f = tree.resolve("etc").resolve(db);
        return Files.exists(f) && Files.readAllLines(f).stream().anyMatch(l -> l.startsWith(name + ":"));
    }

    private void group(String name, String gid) throws IOException, InterruptedException {
        if (name == null || exists("group", name)) {
            return;
        }
        List<String> cmd = new ArrayList<>(List.of("groupadd"));
        if (gid != null) {
            cmd.addAll(List.of("-g", gid));
        }
        cmd.add(name);
        chroot.run(cmd);
    }

    private void user(KickstartArgs c) throws IOException, InterruptedException {
        String name = c.options().get("name");
        for (String g : c.list("groups")) {
            group(g, null);
        }
        if (!exists("passwd", name)) {
            List<String> cmd = new ArrayList<>(List.of("useradd", "-m"));
            if (c.options().containsKey("gecos")) {
                cmd.addAll(List.of("-c", c.options().get("gecos")));
            }
            if (c.options().containsKey("homedir")) {
                cmd.addAll(List.of("-d", c.options().get("homedir")));
            }
            cmd.addAll(List.of("-s", c.options().getOrDefault("shell", "/bin/bash")));
            if (!c.list("groups").isEmpty()) {
                cmd.addAll(List.of("-G", String.join(",", c.list("groups"))));
            }
            if (c.options().containsKey("uid")) {
                cmd.addAll(List.of("-u", c.options().get("uid")));
            }
            if (c.options().containsKey("gid")) {
                group(name, c.options().get("gid"));
                cmd.addAll(List.of("-g", c.options().get("gid")));
            } else {
                cmd.add("-U");
            }
            cmd.add(name);
            chroot.run(cmd);
        }
        password(name, c.options().get("password"), c.options().containsKey("iscrypted"));
        String expires = c.options().get("expiredate");
        if (expires != null) { // the account expires that day (shadow's eighth field, days since 1970-01-01)
            if (!expires.matches("-1|\\d{1,7}")) {
                throw new PlanException("user " + name + ": expiredate is not a number of days: " + expires);
            }
            chroot.run(List.of("chage", "-E", expires, name));
        }
        if (c.options().containsKey("forcepasswordreset")) { // a new password at the first login
            chroot.run(List.of("chage", "-d", "0", name));
        }
    }

    private void rootpw(KickstartArgs c) throws IOException, InterruptedException {
        if (c.options().containsKey("lock")) {
            chroot.run(List.of("usermod", "-p", "!*", "root"));
        } else if (!c.words().isEmpty()) {
            password("root", c.words().get(0), c.options().containsKey("iscrypted"));
        }
    }

    private void password(String user, String password, boolean crypted) throws IOException, InterruptedException {
        if (password == null) {
            return;
        }
        chroot.run(crypted ? List.of("chpasswd", "-e") : List.of("chpasswd"), user + ":" + password + "\n");
    }

    private void sshkey(String user, String key) throws IOException, InterruptedException {
        String home = null;
        String uid = "0";
        String gid = "0";
        for (String line : Files.readAllLines(tree.resolve("etc/passwd"))) {
            String[] f = line.split(":");
            if (f.length >= 6 && f[0].equals(user)) {
                uid = f[2];
                gid = f[3];
                home = f[5];
            }
        }
        if (home == null) {
            throw new PlanException("sshkey for " + user + ", who has no account in the image");
        }
        Path ssh = DebArchive.resolve(tree, home + "/.ssh", true);
        Files.createDirectories(ssh);
        Path keys = ssh.resolve("authorized_keys");
        Files.writeString(keys, key + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        Files.setPosixFilePermissions(ssh, PosixFilePermissions.fromString("rwx------"));
        Files.setPosixFilePermissions(keys, PosixFilePermissions.fromString("rw-------"));
        for (Path p : List.of(ssh, keys)) { // the user's ids as the sandbox (and so the image) sees them
            chroot.sandbox().own(p, Integer.parseInt(uid), Integer.parseInt(gid));
        }
    }

    /** Enables, disables and masks units with the symlinks systemctl would make (no systemd needed at build). */
    private void services(KickstartArgs c) throws IOException {
        for (String unit : c.list("enabled")) {
            String file = unit.contains(".") ? unit : unit + ".service";
            Path source = unitFile(file);
            if (source == null) {
                tools.note("services: no unit " + file + " in the image; not enabled");
                continue;
            }
            for (String line : Files.readAllLines(source)) {
                String l = line.strip();
                if (l.startsWith("WantedBy=") || l.startsWith("RequiredBy=")) {
                    String kind = l.startsWith("WantedBy=") ? ".wants" : ".requires";
                    for (String target : l.substring(l.indexOf('=') + 1).strip().split("\\s+")) {
                        Path link = tree.resolve("etc/systemd/system").resolve(target + kind).resolve(file);
                        Files.createDirectories(link.getParent());
                        Files.deleteIfExists(link);
                        Files.createSymbolicLink(link, Path.of("/").resolve(tree.relativize(source)));
                    }
                }
            }
        }
        for (String unit : c.list("disabled")) {
            String file = unit.contains(".") ? unit : unit + ".service";
            Path etc = tree.resolve("etc/systemd/system");
            if (Files.isDirectory(etc)) {
                try (Stream<Path> links = Files.walk(etc)) {
                    for (Path l : links.filter(Files::isSymbolicLink).filter(l -> l.getFileName().toString().equals(file)).toList()) {
                        Files.delete(l);
                    }
                }
            }
        }
        for (String unit : c.list("masked")) {
            String file = unit.contains(".") ? unit : unit + ".service";
            Path link = tree.resolve("etc/systemd/system").resolve(file);
            Files.createDirectories(link.getParent());
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, Path.of("/dev/null"));
        }
    }

    private Path unitFile(String file) {
        for (String dir : List.of("etc/systemd/system", "usr/lib/systemd/system", "lib/systemd/system")) {
            Path p = tree.resolve(dir).resolve(file);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    /** nftables rules accepting the plan's ports and services (Debian has no firewalld by default). */
    private void firewall(KickstartArgs c) throws IOException {
        if (c.options().containsKey("disabled")) {
            return;
        }
        Set<String> accepts = new LinkedHashSet<>();
        Set<String> refusals = new LinkedHashSet<>();
        for (String zone : c.every("zone")) { // NAME:SOURCE,SOURCE
            String name = zone.substring(0, zone.indexOf(':'));
            String verdict = switch (name) {
                case "trusted" -> "accept";
                case "drop" -> "drop";
                case "block" -> "reject with icmpx type admin-prohibited";
                default -> null; // the other zones have the rules every address has
            };
            for (String source : zone.substring(zone.indexOf(':') + 1).split(",")) {
                if (verdict == null) {
                    continue;
                }
                String match = source.matches("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}") ? "ether saddr "
                        : source.contains(":") ? "ip6 saddr " : "ip saddr ";
                (verdict.equals("accept") ? accepts : refusals).add(match + source + " " + verdict);
            }
        }
        for (var e : c.all()) {
            if (e.getKey().equals("port")) {
                String[] pp = e.getValue().split(":");
                accepts.add(pp[1] + " dport " + pp[0] + " accept");
            } else if (e.getKey().equals("service")) {
                for (String proto : List.of("tcp", "udp")) {
                    String port = servicePort(e.getValue(), proto);
                    if (port != null) {
                        accepts.add(proto + " dport " + port + " accept");
                    }
                }
            }
        }
        StringBuilder rules = new StringBuilder("#!/usr/sbin/nft -f\n# Written by Kiln from the blueprint's firewall customization.\n"
                + "flush ruleset\n\ntable inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0; policy drop;\n"
                + "\t\tiif lo accept\n");
        for (String r : refusals) { // sources of the drop and block zones: before anything is accepted
            rules.append("\t\t").append(r).append('\n');
        }
        rules.append("\t\tct state established,related accept\n\t\tmeta l4proto { icmp, ipv6-icmp } accept\n");
        for (String a : accepts) {
            rules.append("\t\t").append(a).append('\n');
        }
        rules.append("\t}\n\tchain forward {\n\t\ttype filter hook forward priority 0; policy drop;\n\t}\n"
                + "\tchain output {\n\t\ttype filter hook output priority 0; policy accept;\n\t}\n}\n");
        write("etc/nftables.conf", rules.toString());
        if (unitFile("nftables.service") != null) {
            services(KickstartArgs.parse("services --enabled=nftables"));
        }
    }

    private String servicePort(String service, String proto) throws IOException {
        Path services = tree.resolve("etc/services");
        if (!Files.exists(services)) {
            return null;
        }
        for (String line : Files.readAllLines(services)) {
            String[] f = line.split("\\s+");
            if (f.length >= 2 && (f[0].equals(service)) && f[1].endsWith("/" + proto)) {
                return f[1].substring(0, f[1].indexOf('/'));
            }
        }
        return null;
    }
}
