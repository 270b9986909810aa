package dev.kiln.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;

/**
 * Who may read the state directory, set at every start: the directory itself and {@code results/} belong to the
 * {@code weldr} group (mode 0750: its members may fetch images and tokens, as the socket lets them build them);
 * the engine database (with the admin password hash) and the blueprint repository (whose history may hold old plain
 * passwords) are the service's alone (0700). Files below keep their modes: what a directory closes, nobody reaches.
 */
public final class StatePermissions {

    /** The group of the API socket and of what its users may read. */
    public static final String GROUP = "weldr";

    private StatePermissions() {
    }

    /** Creates the state directory's rooms as needed and sets their modes and groups. */
    public static void apply(Path stateDir) throws IOException {
        dir(stateDir, "rwxr-x---", true);
        dir(stateDir.resolve("results"), "rwxr-x---", true);
        dir(stateDir.resolve("engine"), "rwx------", false);
        dir(stateDir.resolve("blueprints"), "rwx------", false);
    }

    private static void dir(Path dir, String mode, boolean weldr) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
        if (weldr) {
            setGroup(dir);
        }
    }

    /** Gives {@code path} to the {@code weldr} group when that group exists; leaves it alone otherwise. */
    public static void setGroup(Path path) throws IOException {
        GroupPrincipal group;
        try {
            group = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName(GROUP);
        } catch (UserPrincipalNotFoundException e) {
            return;
        }
        Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setGroup(group);
    }
}
