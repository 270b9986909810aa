package dev.kiln.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.stream.Stream;

/** The one way Kiln removes a directory and what is in it: links are removed, never followed. */
public final class FileTrees {

    private FileTrees() {
    }

    /** Deletes {@code p} and, when it is a directory, everything below it; nothing when it is absent. */
    public static void delete(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> walk = Files.walk(p)) {
                for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(q);
                }
            }
        } else {
            Files.deleteIfExists(p);
        }
    }

    /** Whether {@code p} lies on tmpfs (memory); false when its file system cannot be told. */
    public static boolean onTmpfs(Path p) {
        try {
            return "tmpfs".equals(Files.getFileStore(p).type());
        } catch (IOException e) {
            return false;
        }
    }

    /** Empties {@code dir}, keeping it (made when missing). */
    public static void empty(Path dir) throws IOException {
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> children = Files.list(dir)) {
                for (Path c : children.toList()) {
                    delete(c);
                }
            }
        }
        Files.createDirectories(dir);
    }

    /** What {@link #visit} does with each path: its attributes as the walk read them (links not followed). */
    @FunctionalInterface
    public interface Visitor {
        void visit(Path path, BasicFileAttributes attributes) throws IOException;
    }

    /** Calls {@code visitor} on {@code root} and everything under it, directories before their entries. */
    public static void visit(Path root, Visitor visitor) throws IOException {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes a) throws IOException {
                visitor.visit(dir, a);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes a) throws IOException {
                visitor.visit(file, a);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * As {@link #visit}, by {@code threads} threads at once, each directory's entries by one of them (a directory
     * is visited before its entries; entries of different directories in no set order): for walks of a whole tree
     * that must end before the next step can start. {@code visitor} must take calls from several threads.
     */
    public static void visit(Path root, int threads, Visitor visitor) throws IOException {
        if (threads <= 1) {
            visit(root, visitor);
            return;
        }
        ForkJoinPool pool = new ForkJoinPool(threads);
        try {
            pool.invoke(directoryVisit(root,
                    Files.readAttributes(root, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS), visitor));
        } catch (UncheckedIOException e) {
            throw e.getCause(); // the pool may hand over a copy: its cause is the walk's
        } finally {
            pool.shutdown();
        }
    }

    /** One directory of a parallel visit: itself, its entries, then its subdirectories as tasks of their own. */
    private static RecursiveAction directoryVisit(Path dir, BasicFileAttributes attributes, Visitor visitor) {
        return new RecursiveAction() {
            @Override
            protected void compute() {
                List<RecursiveAction> below = new ArrayList<>();
                try {
                    visitor.visit(dir, attributes);
                    if (!attributes.isDirectory()) {
                        return;
                    }
                    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                        for (Path p : entries) {
                            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class,
                                    LinkOption.NOFOLLOW_LINKS);
                            if (a.isDirectory()) {
                                below.add(directoryVisit(p, a, visitor));
                            } else {
                                visitor.visit(p, a);
                            }
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                invokeAll(below);
            }
        };
    }
}
