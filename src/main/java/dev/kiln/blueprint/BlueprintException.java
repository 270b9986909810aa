package dev.kiln.blueprint;

/** A blueprint request that cannot be carried out; {@link #kind()} says which Weldr error it is. */
public class BlueprintException extends RuntimeException {

    /** The Weldr error a failure maps to. */
    public enum Kind { INVALID_NAME, INVALID, UNKNOWN_BLUEPRINT, UNKNOWN_COMMIT }

    private final Kind kind;

    public BlueprintException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    static BlueprintException invalid(String message) {
        return new BlueprintException(Kind.INVALID, message);
    }

    static BlueprintException unknown(String message) {
        return new BlueprintException(Kind.UNKNOWN_BLUEPRINT, message);
    }

    static BlueprintException unknownCommit(String message) {
        return new BlueprintException(Kind.UNKNOWN_COMMIT, message);
    }
}
