package dev.kiln.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A network namespace of the test's own, joined to the host by a veth pair on a /24 of the test's own
 * ({@code 10.231.N.0/24}, N free on this machine): the host side is {@code .1}, the namespace's side {@code .2}.
 * What runs in it ({@link #exec}) reaches the host only over that link. Made with {@code ip netns} (root).
 */
public final class NetNamespace implements AutoCloseable {

    public final String name;
    public final String hostAddress;
    public final String address;
    private final String hostLink;

    private NetNamespace(String name, String hostLink, String hostAddress, String address) {
        this.name = name;
        this.hostLink = hostLink;
        this.hostAddress = hostAddress;
        this.address = address;
    }

    public static NetNamespace create() throws IOException, InterruptedException {
        String addresses = DebRepository.run(Path.of("/"), "ip", "-4", "-o", "addr", "show");
        int n;
        do {
            n = ThreadLocalRandom.current().nextInt(1, 250);
        } while (addresses.contains(" 10.231." + n + "."));
        String tag = "kw" + ProcessHandle.current().pid() % 100000 + "n" + n; // at most 15 characters with the suffix
        String ns = "kiln-" + tag;
        String host = tag + "h";
        String inside = tag + "c";
        NetNamespace net = new NetNamespace(ns, host, "10.231." + n + ".1", "10.231." + n + ".2");
        try {
            DebRepository.run(Path.of("/"), "ip", "netns", "add", ns);
            DebRepository.run(Path.of("/"), "ip", "link", "add", host, "type", "veth", "peer", "name", inside);
            DebRepository.run(Path.of("/"), "ip", "link", "set", inside, "netns", ns);
            DebRepository.run(Path.of("/"), "ip", "addr", "add", net.hostAddress + "/24", "dev", host);
            DebRepository.run(Path.of("/"), "ip", "link", "set", host, "up");
            DebRepository.run(Path.of("/"), "ip", "netns", "exec", ns, "ip", "addr", "add", net.address + "/24", "dev", inside);
            DebRepository.run(Path.of("/"), "ip", "netns", "exec", ns, "ip", "link", "set", inside, "up");
            DebRepository.run(Path.of("/"), "ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
        } catch (IOException | InterruptedException e) {
            net.close();
            throw e;
        }
        return net;
    }

    /** {@code command} as run inside the namespace. */
    public List<String> exec(List<String> command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(command);
        return full;
    }

    @Override
    public void close() {
        for (List<String> c : List.of(List.of("ip", "link", "del", hostLink), List.of("ip", "netns", "del", name))) {
            try {
                new ProcessBuilder(c).redirectErrorStream(true).start().waitFor();
            } catch (IOException e) {
                // nothing to remove
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
