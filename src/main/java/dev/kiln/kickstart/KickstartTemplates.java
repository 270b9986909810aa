package dev.kiln.kickstart;

import dev.kiln.KilnProperties;
import dev.kiln.output.OutputType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.springframework.stereotype.Component;

/**
 * One kickstart template per output type ({@code <type>.ks}), as lorax kept them in {@code share/composer/}: a
 * user's copy in {@code <state-dir>/share/composer/<type>.ks} wins over the one shipped in the jar.
 */
@Component
public class KickstartTemplates {

    private final Path userDir;

    public KickstartTemplates(KilnProperties properties) {
        this.userDir = properties.stateDir().resolve("share").resolve("composer");
    }

    public String text(OutputType type) {
        Path user = userDir.resolve(type.id() + ".ks");
        try {
            if (Files.isRegularFile(user)) {
                return Files.readString(user, StandardCharsets.UTF_8);
            }
            try (InputStream in = KickstartTemplates.class.getResourceAsStream("/share/composer/" + type.id() + ".ks")) {
                if (in == null) {
                    throw new IllegalStateException("no kickstart template for " + type.id());
                }
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Kickstart template(OutputType type) {
        return Kickstart.parse(text(type));
    }
}
