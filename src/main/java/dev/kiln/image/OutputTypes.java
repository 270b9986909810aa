package dev.kiln.image;

import dev.kiln.output.OutputType;
import java.util.EnumMap;
import org.springframework.beans.factory.ObjectProvider;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;

/** The registry of output types: every seed type, enabled when its {@link ImageBuilder} is registered. */
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
        return builders.containsKey(type);
    }

    public Optional<ImageBuilder> builder(OutputType type) {
        return Optional.ofNullable(builders.get(type));
    }
}
