package dev.kiln.blueprint;

import java.nio.file.Path;

/** Where workspace copies live: {@code git/workspace/<branch>/<name>.toml}, never outside that directory. */
final class Workspace {

    private final Path root;

    Workspace(Path root) {
        this.root = root;
    }

    /** The workspace file of a blueprint (names and branches checked; no path outside the root). */
    Path file(String branch, String name) {
        BlueprintNames.requireBranch(branch);
        Path file = root.resolve(branch).resolve(BlueprintNames.require(name) + ".toml").normalize();
        if (!file.startsWith(root)) {
            throw new BlueprintException(BlueprintException.Kind.INVALID_NAME, "Invalid characters in API path");
        }
        return file;
    }
}
