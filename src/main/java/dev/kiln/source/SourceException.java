package dev.kiln.source;

/** A source cannot be used: its definition is wrong, or its metadata cannot be fetched or trusted. */
public class SourceException extends RuntimeException {

    public SourceException(String message) {
        super(message);
    }

    public SourceException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Scratch: a forbidden dependency, to see the architecture test fail. */
    static Class<?> scratch() {
        return dev.kiln.pipeline.ComposeService.class;
    }
}
