package dev.kiln.bench;

import dev.kiln.blueprint.Blueprint;
import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.debian.Pkg;
import dev.kiln.depsolve.Depsolver;
import dev.kiln.depsolve.PackageIndex;
import dev.kiln.source.AptSources;
import dev.kiln.source.MetadataFetcher;
import dev.kiln.source.Source;
import dev.kiln.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * bench/depsolve: Kiln's depsolver against apt on the host's system sources. For each package set it checks our
 * result with apt itself (apt must install exactly our pinned set, nothing more, nothing broken), compares it with
 * apt's own choice, and times both. Run by {@code bench/depsolve}; arguments: apt state dir, metadata cache dir.
 */
public final class DepsolveBench {

    static final List<String> SETS = List.of(
            "gnome-core", "texlive-base", "postgresql", "linux-image-amd64 systemd-sysv", "nginx", "openssh-server",
            "vim", "emacs-nox", "git", "build-essential", "python3", "python3-numpy", "nodejs",
            "default-jdk-headless", "mariadb-server", "redis-server", "docker.io", "podman", "qemu-system-x86",
            "libvirt-daemon-system", "xfce4", "firefox-esr", "chromium", "libreoffice-writer", "gimp", "inkscape",
            "apache2 php libapache2-mod-php", "postfix", "exim4-daemon-light", "bind9", "isc-dhcp-server", "samba",
            "nfs-kernel-server", "network-manager", "cloud-init", "grub-efi-amd64", "grub-pc", "lvm2 cryptsetup",
            "btrfs-progs", "sudo curl wget", "rsync tmux screen", "golang", "rustc cargo", "ruby", "php-cli",
            "haproxy", "keepalived", "squid", "openvpn", "wireguard-tools", "ansible", "tor", "cups", "pulseaudio",
            "kde-plasma-desktop", "systemd-resolved dbus", "locales tzdata", "mutt", "irssi", "zsh fish");

    record Apt(List<String> command, Path state) {
        Result simulate(List<String> packages) throws IOException, InterruptedException {
            List<String> cmd = new ArrayList<>(command);
            cmd.addAll(List.of("install", "--simulate", "--no-install-recommends", "-q"));
            cmd.addAll(packages);
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            p.waitFor(300, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            Map<String, String> inst = new TreeMap<>();
            Matcher m = Pattern.compile("(?m)^Inst (\\S+) \\((\\S+) ").matcher(out);
            while (m.find()) {
                inst.put(m.group(1).replaceFirst(":amd64$", ""), m.group(2));
            }
            return new Result(p.exitValue(), inst, ms, out);
        }
    }

    record Result(int exit, Map<String, String> packages, long ms, String output) {
    }

    public static void main(String[] args) throws Exception {
        Path aptState = Path.of(args[0]);
        Path cache = Path.of(args[1]);
        if (args.length > 2) {
            serverRestart(Path.of(args[2]));
        }
        Apt apt = new Apt(List.of("apt-get", "-o", "Dir::State=" + aptState, "-o", "Dir::State::status=" + aptState.resolve("status"),
                "-o", "Dir::Cache=" + aptState.resolve("cache"), "-o", "Debug::NoLocking=1", "-o", "APT::Architecture=amd64",
                "-o", "APT::Architectures::=amd64"), aptState);
        List<Source> sources = AptSources.read(Path.of("/etc/apt"));
        System.out.println("System sources: " + sources.stream().map(s -> s.id() + " " + s.url() + " " + s.suites()).toList());

        long before = countPackagesFiles(cache);
        long t0 = System.nanoTime();
        List<Pkg> all = new ArrayList<>();
        MetadataFetcher fetcher = new MetadataFetcher(cache);
        for (Source s : sources) {
            fetcher.load(s, "amd64", all::add);
        }
        PackageIndex index = new PackageIndex(all, "amd64");
        Depsolver solver = new Depsolver(index);
        Blueprint http = BlueprintParser.parseToml(Files.readString(Path.of("src/main/resources/blueprints/example-http-server.toml")));
        List<Depsolver.Request> httpRequests = new ArrayList<>();
        Stream.concat(http.modules().stream(), http.packages().stream())
                .forEach(i -> httpRequests.add(new Depsolver.Request((String) i.get("name"), (String) i.get("version"))));
        solver.solve(httpRequests, true);
        long firstMs = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("Index: %d packages; load + first depsolve (example-http-server): %d ms (%s cache: %d index files "
                + "before, %d after)%n", index.size(), firstMs, before > 0 ? "warm" : "cold", before, countPackagesFiles(cache));

        List<String> base = index.base().stream().map(p -> p.name).toList();
        List<List<Depsolver.Request>> sets = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        sets.add(httpRequests);
        labels.add("example-http-server");
        for (String s : SETS) {
            sets.add(Arrays.stream(s.split(" ")).map(n -> new Depsolver.Request(n, null)).toList());
            labels.add(s);
        }
        int valid = 0;
        int identical = 0;
        long oursTotalUs = 0;
        long aptTotalMs = 0;
        System.out.printf("%-34s %6s %6s %6s %5s %9s %8s %s%n", "set", "ours", "apt", "diff", "valid", "ours ms", "apt ms", "notes");
        for (int i = 0; i < sets.size(); i++) {
            List<Depsolver.Request> req = sets.get(i);
            List<Pkg> ours = solver.solve(req, true);
            int rounds = 5;
            long s0 = System.nanoTime();
            for (int r = 0; r < rounds; r++) {
                solver.solve(req, true);
            }
            long oursUs = (System.nanoTime() - s0) / 1000 / rounds;
            Map<String, String> oursMap = new TreeMap<>();
            ours.forEach(p -> oursMap.put(p.name, p.version));

            List<String> aptReq = new ArrayList<>(base);
            req.forEach(r -> aptReq.add(r.version() == null || r.version().equals("*") ? r.name() : r.name() + "=" + resolveGlob(ours, r)));
            Result own = apt.simulate(aptReq);
            List<String> pinned = ours.stream().map(p -> p.name + "=" + p.version).toList();
            Result check = apt.simulate(pinned);
            boolean ok = check.exit() == 0 && check.packages().equals(oursMap);
            TreeSet<String> diff = new TreeSet<>();
            oursMap.forEach((n, v) -> {
                if (!v.equals(own.packages().get(n))) {
                    diff.add("+" + n);
                }
            });
            own.packages().forEach((n, v) -> {
                if (!v.equals(oursMap.get(n))) {
                    diff.add("-" + n);
                }
            });
            boolean same = own.exit() == 0 && diff.isEmpty();
            valid += ok ? 1 : 0;
            identical += same ? 1 : 0;
            oursTotalUs += oursUs;
            aptTotalMs += own.ms();
            String notes = ok ? "" : "INVALID per apt: " + firstLines(check.output());
            if (!same) {
                notes += (own.exit() != 0 ? " apt failed: " + firstLines(own.output()) : " differs: " + String.join(" ", diff));
            }
            System.out.printf("%-34s %6d %6d %6d %5s %9.1f %8d %s%n", labels.get(i), oursMap.size(), own.packages().size(),
                    diff.size(), ok ? "yes" : "NO", oursUs / 1000.0, own.ms(), notes);
        }
        int n = sets.size();
        double ratio = (oursTotalUs / 1000.0) / aptTotalMs;
        System.out.printf("%nSets: %d; valid (checked by apt): %d/%d; identical to apt's choice: %d/%d (%.1f%%)%n", n, valid, n,
                identical, n, 100.0 * identical / n);
        System.out.printf("Time per resolve: ours %.1f ms (index loaded), apt %.0f ms; ratio ours/apt = %.4f (goal <= 0.5)%n",
                oursTotalUs / 1000.0 / n, (double) aptTotalMs / n, ratio);
        System.out.printf("Goals: every set valid %s; >= 95%% identical %s; ratio <= 0.5 %s; first depsolve on warm cache < 2 s %s%n",
                valid == n ? "MET" : "MISSED", identical * 100 >= 95 * n ? "MET" : "MISSED", ratio <= 0.5 ? "MET" : "MISSED",
                before > 0 ? (firstMs < 2000 ? "MET" : "MISSED") : "(cold cache: run again)");
    }

    /**
     * The service as users run it: started on a state directory whose metadata cache is warm, then asked for the
     * example-http-server depsolve as soon as /api/status answers. Prints that first depsolve's time and whether
     * any index was downloaded again.
     */
    static void serverRestart(Path stateDir) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (int run = 1; run <= 2; run++) {
            Path cache = stateDir.resolve("cache/metadata");
            Map<String, Long> before = indexFiles(cache);
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Process server = new ProcessBuilder("java", "-jar", "target/kiln.jar", "--kiln.state-dir=" + stateDir,
                    "--kiln.api.socket=", "--kiln.api.tcp-weldr=true", "--kiln.api.port=" + port).redirectErrorStream(true)
                    .redirectOutput(stateDir.resolve("server.log").toFile()).start();
            try {
                long t0 = System.nanoTime();
                while (true) {
                    try {
                        if (Files.exists(stateDir.resolve("api-token")) && http.send(TestServer
                                .request(port, stateDir, "/api/status").build(),
                                HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                            break;
                        }
                    } catch (IOException e) {
                        Thread.sleep(100);
                    }
                }
                long up = (System.nanoTime() - t0) / 1_000_000;
                long d0 = System.nanoTime();
                var resp = http.send(TestServer.request(port, stateDir,
                        "/api/v1/blueprints/depsolve/example-http-server").build(),
                        HttpResponse.BodyHandlers.ofString());
                long depsolveMs = (System.nanoTime() - d0) / 1_000_000;
                int deps = resp.body().split("\"remote_location\"", -1).length - 1;
                Map<String, Long> after = indexFiles(cache);
                System.out.printf("Server start %d (%s cache): /api/status after %d ms; first depsolve %d ms (HTTP %d, %d "
                        + "packages); index files downloaded during this start: %d%n", run, before.isEmpty() ? "cold" : "warm",
                        up, depsolveMs, resp.statusCode(), deps, after.entrySet().stream()
                                .filter(e -> !e.getValue().equals(before.get(e.getKey()))).count());
                if (run == 2) {
                    System.out.printf("Goal: first depsolve after a start on a warm cache under 2 s: %s; no re-download: %s%n",
                            depsolveMs < 2000 ? "MET" : "MISSED", after.equals(before) ? "MET" : "MISSED");
                }
            } finally {
                server.destroy();
                server.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static Map<String, Long> indexFiles(Path cache) throws IOException {
        Map<String, Long> files = new TreeMap<>();
        if (Files.isDirectory(cache)) {
            try (Stream<Path> all = Files.walk(cache)) {
                for (Path f : all.filter(x -> x.toString().endsWith(".Packages")).toList()) {
                    files.put(f.toString(), Files.getLastModifiedTime(f).toMillis());
                }
            }
        }
        return files;
    }

    private static String resolveGlob(List<Pkg> ours, Depsolver.Request r) {
        return ours.stream().filter(p -> p.name.equals(r.name())).map(p -> p.version).findFirst().orElse("*");
    }

    private static String firstLines(String out) {
        return out.lines().filter(l -> l.startsWith("E:") || l.contains("Depends:") || l.contains("Breaks:")
                || l.contains("Conflicts:")).limit(3).reduce((a, b) -> a + " | " + b).orElse("").strip();
    }

    private static long countPackagesFiles(Path cache) throws IOException {
        if (!Files.isDirectory(cache)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(cache)) {
            return files.filter(f -> f.toString().endsWith(".Packages")).count();
        }
    }
}
