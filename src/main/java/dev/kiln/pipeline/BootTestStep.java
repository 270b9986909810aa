package dev.kiln.pipeline;

import dev.kiln.boot.BootTester;
import dev.kiln.depsolve.DepsFile;
import dev.kiln.store.ResultsDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * {@code boot-test} (only when the compose asked for it): boots the built image in QEMU and waits for a sign of
 * life, an HTTP 200 from the guest when the image has a web server, else a login prompt on the serial console.
 * The result goes to the compose's log and the console to {@code logs/boot-test.log}; an image that does not boot
 * fails the compose. File-system types (tar, ext4-filesystem) have nothing to boot: the step says so and passes.
 */
@Component
public class BootTestStep implements ComposeStep {

    /** Packages whose presence means the guest answers HTTP on port 80 once it is up. */
    static final Set<String> WEB_SERVERS = Set.of("apache2", "nginx", "nginx-light", "nginx-full", "lighttpd");

    private final BootTester.Firmware firmware;
    private final Duration timeout;

    public BootTestStep(@Value("${kiln.boot-test.firmware:uefi}") String firmware,
            @Value("${kiln.boot-test.timeout-seconds:900}") int timeoutSeconds) {
        this.firmware = BootTester.Firmware.valueOf(firmware.toUpperCase(Locale.ROOT));
        this.timeout = Duration.ofSeconds(timeoutSeconds);
    }

    @Override
    public String topic() {
        return "boot-test";
    }

    @Override
    public void execute(ComposeTask task) throws Exception {
        if (task.test() != 0) {
            task.log("boot test: skipped in test mode");
            return;
        }
        if (BootTester.qemuFormat(task.type()).isEmpty()) {
            task.log("boot test: " + task.type().id() + " is a file system, not a bootable image; nothing to boot");
            return;
        }
        ResultsDir results = task.results();
        Path image = results.file(ResultsDir.COMPOSE).resolve(task.type().imageName());
        if (!Files.exists(image)) {
            throw new StepFailedException("the build left no " + task.type().imageName() + " to boot");
        }
        List<Map<String, Object>> deps = DepsFile.read(results.read(ResultsDir.DEPS));
        boolean web = deps.stream().anyMatch(d -> WEB_SERVERS.contains(String.valueOf(d.get("name"))));
        Path work = results.file(ResultsDir.COMPOSE).resolve("boot-test");
        Path serial = results.file(ResultsDir.LOGS).resolve("boot-test.log");
        try {
            task.tools().progress().phase("boot");
            BootTester.Result r = BootTester.boot(image, task.type(), firmware, web, timeout, work, serial, task.tools());
            String line = String.format("boot test: %s after %.1f s: %s", r.passed() ? "PASSED" : "FAILED",
                    r.seconds(), r.detail());
            task.log(line);
            if (!r.passed()) {
                throw new StepFailedException(line + " (console in logs/boot-test.log)");
            }
        } finally {
            BuildStep.clear(work);
            Files.deleteIfExists(work);
        }
    }
}
