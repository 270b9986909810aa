package dev.kiln.depsolve;

/** The request cannot be resolved; the message names the package and the relation that fail. */
public class DepsolveException extends Exception {

    public DepsolveException(String message) {
        super(message);
    }
}
