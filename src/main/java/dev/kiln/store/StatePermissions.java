package dev.kiln.store;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may read the state directory, set at every start: the directory itself (0751) and {@code results/} (0750)
 * belong to the {@code weldr} group (its members may fetch images and tokens, as the socket lets them build them);
 * the engine database (with the admin password hash) and the blueprint repository (whose history may hold old plain
 * passwords) are the service's alone (0700). Files below keep their modes: what a directory closes, nobody reaches.
 */
public final class StatePermissions {

    private static final Logger log = LoggerFactory.getLogger(StatePermissions.class);

    /** The group of the API socket and of what its users may read. */
    public static final String GROUP = "weldr";

    private StatePermissions() {
    }

    /** Where builds keep what the build sandbox must reach: one directory per compose, owned by it. */
    public static final String WORK = "work";

    /**
     * Creates the state directory's rooms as needed and sets their modes and groups. The state directory and
     * {@code work/} can be passed through by anyone (mode x, no listing), so that the build sandbox, an
     * unprivileged id range, reaches its own directory in {@code work/} (mode 0700, owned by the sandbox).
     */
    public static void apply(Path stateDir) throws IOException {
        dir(stateDir, "rwxr-x--x", true);
        dir(stateDir.resolve(WORK), "rwx--x--x", false);
        dir(stateDir.resolve("results"), "rwxr-x---", true);
        dir(stateDir.resolve("engine"), "rwx------", false);
        dir(stateDir.resolve("blueprints"), "rwx------", false);
    }

    /** The rooms of {@code kiln.node-dir} (the state directory itself on one machine): passable, with {@code work/}. */
    public static void applyNode(Path nodeDir) throws IOException {
        dir(nodeDir, "rwxr-x--x", false);
        dir(nodeDir.resolve(WORK), "rwx--x--x", false);
    }

    private static void dir(Path dir, String mode, boolean weldr) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
        if (weldr) {
            setGroup(dir);
        }
    }

    /**
     * Gives {@code path} to the {@code weldr} group when that group exists and the service may give files to it;
     * leaves it alone otherwise (a service run by an ordinary user, not in the group, keeps its own group).
     */
    public static void setGroup(Path path) throws IOException {
        GroupPrincipal group;
        try {
            group = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(GROUP);
        } catch (UserPrincipalNotFoundException e) {
            return;
        }
        try {
            Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setGroup(group);
        } catch (FileSystemException notOurs) {
            if (!warned) {
                warned = true;
                log.info("{} stays in the service's own group: {}", path, notOurs.getMessage());
            }
        }
    }

    private static volatile boolean warned;
}
