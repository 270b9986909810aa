package dev.kiln.image.fetch;

import dev.kiln.KilnProperties;
import dev.kiln.image.sandbox.ToolRunner;
import dev.kiln.store.FileTrees;
import dev.kiln.store.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The {@code .deb} files of all composes, stored by SHA256 under {@code <state>/cache/packages/}: downloads run in
 * parallel, every file's size and SHA256 are checked before it enters the cache (a partial download never does),
 * and the least recently used files are evicted above {@code kiln.cache.packages-max-bytes}.
 *
 * <p>Next to each package installed once, its {@linkplain #plain plain form}: the same package with its
 * {@code data.tar} uncompressed, made from the checked file the first time a build installs it, so that no later
 * build decompresses it again (xz was a third of dpkg's unpacking). Plain forms count towards the bound and go
 * first, least recently used first: they can be made again.
 */
@Component
public class PackageCache {

    /** Whether {@code deb}, a package of this cache, has its plain form made. */
    public boolean hasPlain(Path deb) {
        return Files.exists(plainOf(deb));
    }

    private Path plainOf(Path deb) {
        String name = deb.getFileName().toString();
        if (!dir.equals(deb.getParent()) || !CACHED.matcher(name).matches()) {
            throw new IllegalArgumentException("not a package of the cache: " + deb);
        }
        return dir.resolve(PLAIN).resolve(name);
    }

    /** A cached package's (or plain form's) name: its SHA256. */
    private static final java.util.regex.Pattern CACHED = java.util.regex.Pattern.compile("[0-9a-f]{64}\\.deb");
    /** Where the plain forms lie, under the cache's directory. */
    private static final String PLAIN = "plain";
    /** The directories of plain forms {@link #hold held} for a build, under {@code plain/}. */
    private static final String HELD = ".held-";
    private static final Set<PosixFilePermission> READABLE = PosixFilePermissions.fromString("rw-r--r--");

    private final Path dir;
    private final long maxBytes;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(20)).build();

    /** One package to fetch: where from, and what it must be. */
    public record Wanted(String name, String url, long size, String sha256) {
    }

    @Autowired
    public PackageCache(KilnProperties properties,
            @Value("${kiln.cache.packages-max-bytes:10737418240}") long maxBytes) {
        this(properties.localDir().resolve("cache").resolve("packages"), maxBytes);
    }

    PackageCache(Path dir, long maxBytes) {
        this.dir = dir;
        this.maxBytes = maxBytes;
        removePartialDownloads(dir);
    }

    /**
     * {@code .download-*.tmp}, {@code plain/.make-*} files and {@code plain/.held-*} directories a killed service
     * left: never part of the cache, only taking room.
     */
    static void removePartialDownloads(Path dir) {
        for (Path d : List.of(dir, dir.resolve(PLAIN))) {
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (var files = Files.list(d)) {
                for (Path f : files.filter(f -> f.getFileName().toString().startsWith(".download-")
                        || f.getFileName().toString().startsWith(".make-")
                        || f.getFileName().toString().startsWith(HELD)).toList()) {
                    FileTrees.delete(f);
                }
            } catch (IOException e) {
                LoggerFactory.getLogger(PackageCache.class).warn("cannot clean {}: {}", d, e.toString());
            }
        }
    }

    /**
     * The plain form of {@code deb}, a package of this cache ({@link #fetch}'s answer): the same package with its
     * {@code data.tar} member uncompressed ({@link DebArchive#decompress}), made from it and renamed into
     * {@code plain/} the first time it is asked for (two builds asking at once each make one; the last rename wins,
     * the same bytes). The file is the cache's: readers copy it, never write it.
     */
    public Path plain(Path deb) throws IOException, InterruptedException {
        Path plain = plainOf(deb);
        Path plainDir = plain.getParent();
        try {
            Files.setLastModifiedTime(plain, FileTime.fromMillis(System.currentTimeMillis())); // its use, for eviction
            return plain;
        } catch (java.nio.file.NoSuchFileException notMadeYet) {
            // made below
        }
        Files.createDirectories(plainDir);
        Path tmp = Files.createTempFile(plainDir, ".make-", ".tmp");
        try {
            DebArchive.decompress(deb, tmp);
            Files.setPosixFilePermissions(tmp, READABLE); // a public package, read by builds' sandboxes ({@link #hold})
            Files.move(tmp, plain, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return plain;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Holds the plain forms of {@code debs} (name → a package of this cache whose plain form exists) for a reader
     * outside the service, a build's sandbox: hard links to them named {@code <name>.deb} in a directory of their
     * own under {@code plain/}, so that no eviction takes one away meanwhile, each readable by every user (a
     * public package, checked) and never writable but by root. Answers that directory, or null when it cannot be
     * read from outside: the links cannot be made (a plain form is gone), or a directory on its way is closed to
     * other users. The caller deletes it when done; one a killed service left goes at start.
     */
    public Path hold(Map<String, Path> debs) throws IOException {
        Path held = dir.resolve(PLAIN).resolve(HELD + ProcessHandle.current().pid() + "-" + System.nanoTime());
        for (Path d = dir.resolve(PLAIN).toAbsolutePath(); d != null; d = d.getParent()) {
            if (!Files.getPosixFilePermissions(d).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                return null;
            }
        }
        for (Map.Entry<String, Path> e : debs.entrySet()) {
            if (!e.getKey().matches("[a-z0-9][a-z0-9+.-]{0,127}")) {
                throw new IllegalArgumentException("not a package name: " + e.getKey());
            }
            plainOf(e.getValue()); // the cache's own package
        }
        Files.createDirectory(held);
        try {
            Files.setPosixFilePermissions(held, PosixFilePermissions.fromString("rwxr-xr-x"));
            for (Map.Entry<String, Path> e : debs.entrySet()) {
                Path plain = plainOf(e.getValue());
                Files.createLink(held.resolve(e.getKey() + ".deb"), plain);
                Files.setPosixFilePermissions(plain, READABLE); // one made before plain forms were readable
            }
            return held;
        } catch (FileSystemException e) { // NoSuchFileException among them
            FileTrees.delete(held); // evicted meanwhile, or links not allowed here: the caller copies instead
            return null;
        }
    }

    /** Every wanted package as a checked file in the cache, by name; fetches what is missing, 8 at a time. */
    public Map<String, Path> fetch(List<Wanted> wanted, ToolRunner log) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Map<String, Path> files = new LinkedHashMap<>();
        List<Wanted> missing = new ArrayList<>();
        for (Wanted w : wanted) {
            if (!w.sha256().matches("[0-9a-f]{64}")) {
                throw new IOException("package " + w.name() + " has no valid SHA256");
            }
            Path f = dir.resolve(w.sha256() + ".deb");
            files.put(w.name(), f);
            if (Files.exists(f)) {
                Files.setLastModifiedTime(f, FileTime.fromMillis(System.currentTimeMillis()));
            } else {
                missing.add(w);
            }
        }
        if (!missing.isEmpty()) {
            long t0 = System.nanoTime();
            Progress progress = log.progress();
            progress.phase("fetch", missing.size(), "packages");
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<Long>> downloads = new ArrayList<>();
                for (Wanted w : missing) {
                    downloads.add(pool.submit(() -> {
                        long got = download(w, progress);
                        progress.step(w.name());
                        return got;
                    }));
                }
                long bytes = 0;
                for (Future<Long> d : downloads) {
                    try {
                        bytes += d.get();
                    } catch (ExecutionException e) {
                        throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
                    }
                }
                log.note(String.format("fetched %d packages (%d bytes) in %d ms; %d were cached", missing.size(), bytes,
                        (System.nanoTime() - t0) / 1_000_000, wanted.size() - missing.size()));
            } finally {
                pool.shutdownNow();
            }
        } else {
            log.note("all " + wanted.size() + " packages were cached");
        }
        evict(files.values());
        return files;
    }

    private long download(Wanted w, Progress progress) throws IOException, InterruptedException {
        Path tmp = Files.createTempFile(dir, ".download-", ".tmp");
        try {
            HttpResponse<InputStream> resp = http.send(HttpRequest.newBuilder(URI.create(w.url()))
                    .timeout(Duration.ofMinutes(10)).build(), HttpResponse.BodyHandlers.ofInputStream());
            if (resp.statusCode() != 200) {
                resp.body().close();
                throw new IOException("HTTP " + resp.statusCode() + " for " + w.url());
            }
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            try (InputStream in = resp.body(); OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp), sha)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    out.write(buf, 0, n);
                    progress.bytes(n);
                }
            }
            String actual = HexFormat.of().formatHex(sha.digest());
            long size = Files.size(tmp);
            if (!actual.equals(w.sha256()) || (w.size() > 0 && size != w.size())) {
                throw new IOException(w.url() + " does not match its checksum (got " + actual + ", " + size
                        + " bytes; expected " + w.sha256() + ", " + w.size() + " bytes)");
            }
            Files.move(tmp, dir.resolve(w.sha256() + ".deb"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            return size;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Drops the least recently used files (never those in use) until the cache fits its bound: plain forms first
     * (they are made again from their packages), then packages with their plain forms.
     */
    private synchronized void evict(Collection<Path> inUse) throws IOException {
        List<Path> packages = files(dir);
        List<Path> plains = files(dir.resolve(PLAIN));
        long total = 0;
        for (Path f : packages) {
            total += sizeOf(f);
        }
        for (Path f : plains) {
            total += sizeOf(f);
        }
        if (total <= maxBytes) {
            return;
        }
        Comparator<Path> byAge = Comparator.comparing(f -> f.toFile().lastModified());
        List<Path> order = new ArrayList<>(plains.stream().sorted(byAge).toList());
        order.addAll(packages.stream().sorted(byAge).toList());
        for (Path f : order) {
            if (total <= maxBytes) {
                break;
            }
            boolean isPlain = f.getParent().getFileName().toString().equals(PLAIN);
            Path pkg = isPlain ? dir.resolve(f.getFileName()) : f;
            if (inUse.contains(pkg)) {
                continue;
            }
            total -= sizeOf(f);
            Files.deleteIfExists(f);
            if (!isPlain) {
                Path plain = dir.resolve(PLAIN).resolve(f.getFileName());
                total -= sizeOf(plain);
                Files.deleteIfExists(plain);
            }
        }
    }

    private static List<Path> files(Path d) throws IOException {
        if (!Files.isDirectory(d)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(d)) {
            return files.filter(f -> CACHED.matcher(f.getFileName().toString()).matches()).toList();
        }
    }

    /** A file's size, 0 when it is gone (another build evicted it). */
    private static long sizeOf(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            return 0;
        }
    }
}
