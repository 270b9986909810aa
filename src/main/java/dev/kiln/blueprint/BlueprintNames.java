package dev.kiln.blueprint;

import java.util.regex.Pattern;

/**
 * The only gate between a name from a request and the file system: blueprint names and branches are checked here
 * before any path or git ref is built from them.
 */
public final class BlueprintNames {

    /** lorax's VALID_BLUEPRINT_NAME. */
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9._-]+");

    private BlueprintNames() {
    }

    /**
     * True for a name that matches lorax's pattern and cannot act as a path element: no leading dot (so neither
     * {@code .} nor {@code ..} nor hidden files), no {@code ..} anywhere, and no leading {@code -}, so that no tool
     * that is handed a name (or a path made from it) can read it as an option.
     */
    public static boolean isValid(String name) {
        return name != null && name.length() <= 200 && NAME.matcher(name).matches()
                && !name.startsWith(".") && !name.startsWith("-") && !name.contains("..");
    }

    /** A branch must be a valid blueprint name too (it becomes a git ref and a workspace directory). */
    public static boolean isValidBranch(String branch) {
        return isValid(branch) && !branch.endsWith(".lock");
    }

    public static String require(String name) {
        if (!isValid(name)) {
            throw new BlueprintException(BlueprintException.Kind.INVALID_NAME, "Invalid characters in API path");
        }
        return name;
    }

    public static String requireBranch(String branch) {
        if (!isValidBranch(branch)) {
            throw new BlueprintException(BlueprintException.Kind.INVALID_NAME, "Invalid characters in branch argument");
        }
        return branch;
    }
}
