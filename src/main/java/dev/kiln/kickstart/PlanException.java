package dev.kiln.kickstart;

import java.io.IOException;

/**
 * The plan asks for what the image cannot have (a time zone its tzdata lacks, a key for a user it has not): the
 * same frozen plan fails the same way every time, so the compose fails at once instead of being retried.
 */
public final class PlanException extends IOException {

    public PlanException(String message) {
        super(message);
    }
}
