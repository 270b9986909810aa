package dev.kiln.image;

import dev.kiln.KilnProperties;
import dev.kiln.image.sandbox.Sandbox;
import dev.kiln.output.OutputType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * What builds need, checked once when the service is ready and said once, clearly: the sandbox (root, or a
 * subordinate id range with newuidmap and bubblewrap), each output type's host tools, free space where images and
 * trees are written, and {@code /dev/shm} for builds on tmpfs. Nothing stops the service: it still answers, and
 * {@code compose start} refuses what cannot build.
 */
@Component
class HostCheck {

    private static final Logger log = LoggerFactory.getLogger(HostCheck.class);
    /** Less free space than this where images are written is worth a warning: a disk image needs about 2 GiB. */
    static final long LOW_SPACE = 4L << 30;

    private final Sandbox sandbox;
    private final KilnProperties properties;
    private final OutputTypes types;
    private final boolean tmpfs;
    private final int buildSlots;

    HostCheck(Sandbox sandbox, KilnProperties properties, OutputTypes types,
            @Value("${kiln.build.tmpfs:true}") boolean tmpfs,
            @Value("${kiln.compose.build-concurrency:1}") int buildSlots) {
        this.sandbox = sandbox;
        this.properties = properties;
        this.types = types;
        this.tmpfs = tmpfs;
        this.buildSlots = buildSlots;
    }

    @EventListener
    void ready(ApplicationReadyEvent event) {
        if (buildSlots <= 0) {
            return; // this node builds nothing: remote workers check their own host
        }
        List<String> problems = problems();
        if (problems.isEmpty()) {
            log.info("Host check: every output type can be built here");
        } else {
            log.warn("Host check: {}", String.join("; ", problems));
        }
        String lvm = dev.kiln.image.HostTools.whyNoLvm();
        if (lvm == null) {
            log.info("Host check: LVM layouts (partitioning_mode lvm, auto-lvm) can be written here");
        } else {
            log.info("Host check: composes asking for LVM layouts are refused here: {}", lvm);
        }
    }

    /** What is missing for builds on this host, each a sentence; empty when nothing is. */
    List<String> problems() {
        List<String> out = new ArrayList<>();
        try {
            sandbox.range();
        } catch (IOException e) {
            out.add("no build can run: " + e.getMessage());
        }
        Map<String, List<String>> byMissing = new LinkedHashMap<>();
        for (OutputType t : OutputType.values()) {
            String why = types.whyDisabled(t);
            if (why != null) {
                byMissing.computeIfAbsent(why, k -> new ArrayList<>()).add(t.id());
            }
        }
        byMissing.forEach((why, ids) -> out.add(String.join(", ", ids) + " disabled: " + why));
        for (Path p : List.of(properties.resultsDir(), properties.localDir())) {
            long free = free(p);
            if (free >= 0 && free < LOW_SPACE) {
                out.add(String.format("only %.1f GiB free under %s (a disk image needs about 2 GiB)",
                        free / (double) (1L << 30), p.toAbsolutePath()));
            }
        }
        if (tmpfs && !Files.isDirectory(Path.of("/dev/shm"))) {
            out.add("/dev/shm is missing: builds run on disk (slower); kiln.build.tmpfs=false says so and quiets this");
        }
        return out;
    }

    private static long free(Path p) {
        for (Path q = p.toAbsolutePath(); q != null; q = q.getParent()) {
            if (Files.exists(q)) {
                try {
                    return Files.getFileStore(q).getUsableSpace();
                } catch (IOException e) {
                    return -1;
                }
            }
        }
        return -1;
    }
}
