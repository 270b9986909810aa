package dev.kiln.pipeline;

import dev.kiln.KilnProperties;
import dev.kiln.store.AtomicFiles;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.operaton.bpm.engine.RepositoryService;
import org.operaton.bpm.engine.repository.DeploymentBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The pipeline users edit: every {@code *.bpmn} of {@code kiln.bpmn.dir} (default {@code <state-dir>/bpmn}) is
 * deployed at start, before any compose can start; the directory is seeded with Kiln's {@code compose.bpmn} when it
 * has none. A file that changed becomes a new version of its process (composes in flight keep theirs); an
 * unchanged one is not deployed again (the engine's duplicate filtering), also when several nodes start together.
 */
@Component
public class BpmnDirectory {

    private static final Logger log = LoggerFactory.getLogger(BpmnDirectory.class);
    static final String DEPLOYMENT = "kiln-bpmn";
    private final Path dir;

    BpmnDirectory(RepositoryService repository, KilnProperties properties,
            @Value("${kiln.bpmn.dir:}") String configured) {
        this.dir = configured.isBlank() ? properties.stateDir().resolve("bpmn") : Path.of(configured).toAbsolutePath();
        try {
            Files.createDirectories(dir);
            Path compose = dir.resolve("compose.bpmn");
            if (!Files.exists(compose)) {
                try (InputStream in = BpmnDirectory.class.getClassLoader().getResourceAsStream(ComposeProcess.RESOURCE)) {
                    if (in == null) {
                        throw new IllegalStateException(ComposeProcess.RESOURCE + " is not in the jar");
                    }
                    AtomicFiles.write(compose, in.readAllBytes());
                }
                log.info("Seeded {} with Kiln's compose pipeline", compose);
            }
            List<Path> files;
            try (Stream<Path> list = Files.list(dir)) {
                files = list.filter(p -> p.getFileName().toString().endsWith(".bpmn")).sorted().toList();
            }
            DeploymentBuilder deployment = repository.createDeployment().name(DEPLOYMENT)
                    .enableDuplicateFiltering(false);
            for (Path f : files) {
                deployment.addInputStream(f.getFileName().toString(), new ByteArrayInputStream(Files.readAllBytes(f)));
            }
            var deployed = deployment.deploy();
            log.info("BPMN of {} deployed as {}: {}", dir, deployed.getId(),
                    files.stream().map(p -> p.getFileName().toString()).toList());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot deploy the BPMN of " + dir, e);
        }
    }

    public Path dir() {
        return dir;
    }
}
