package dev.kiln.image;

import dev.kiln.output.OutputType;
import java.util.EnumMap;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * The registry of output types: every seed type, enabled when its {@link ImageBuilder} is registered and the host
 * has the tools its build runs ({@link HostTools}, looked at again on each question: installing them enables it).
 */
@Component
public class OutputTypes {

    private final Map<OutputType, ImageBuilder> builders = new EnumMap<>(OutputType.class);

    public OutputTypes(ObjectProvider<ImageBuilder> builders) {
        for (ImageBuilder b : builders.orderedStream().toList()) {
            if (this.builders.put(b.type(), b) != null) {
                throw new IllegalStateException("two builders for " + b.type().id());
            }
        }
    }

    public boolean enabled(OutputType type) {
        return builders.containsKey(type) && HostTools.missing(type).isEmpty();
    }

    /** Why {@code type} is disabled (null when it is enabled): no builder, or the host tools it lacks. */
    public String whyDisabled(OutputType type) {
        if (!builders.containsKey(type)) {
            return "Kiln cannot build it yet (see the README)";
        }
        List<String> missing = HostTools.missing(type);
        return missing.isEmpty() ? null : "this host lacks " + String.join(", ", missing) + " (apt install "
                + String.join(" ", HostTools.packages(missing)) + ")";
    }

    public Optional<ImageBuilder> builder(OutputType type) {
        return Optional.ofNullable(builders.get(type));
    }
}
