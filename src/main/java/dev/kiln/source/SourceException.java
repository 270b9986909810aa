package dev.kiln.source;

/** A source cannot be used: its definition is wrong, or its metadata cannot be fetched or trusted. */
public class SourceException extends RuntimeException {

    public SourceException(String message) {
        super(message);
    }

    public SourceException(String message, Throwable cause) {
        super(message, cause);
    }
}
