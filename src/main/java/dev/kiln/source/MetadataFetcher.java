package dev.kiln.source;

import dev.kiln.debian.PackagesParser;
import dev.kiln.debian.Pkg;
import dev.kiln.store.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tukaani.xz.XZInputStream;

/**
 * Fetches a {@code deb} source's metadata into the cache under the state directory and reads its packages:
 * {@code InRelease} (or {@code Release} + {@code Release.gpg}) fetched with a conditional request and its signature
 * checked; each {@code Packages} index checked against the SHA256 the Release file gives, stored uncompressed under
 * its hash, so that an unchanged index is never downloaded twice. When a repository cannot be reached, the last
 * verified copy is used and the problem is logged.
 */
public final class MetadataFetcher {

    private static final Logger log = LoggerFactory.getLogger(MetadataFetcher.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final List<String> COMPRESSIONS = List.of(".xz", ".gz", "");

    private final Path cacheDir;

    public MetadataFetcher(Path cacheDir) {
        this.cacheDir = cacheDir;
    }

    /** Reads every package of the source for {@code arch} (and arch {@code all}) into {@code sink}. */
    public void load(Source source, String arch, Consumer<Pkg> sink) {
        if (!source.isDeb()) {
            throw new SourceException("source " + source.id() + " has type " + source.type()
                    + ": Kiln reads Debian repositories only (RPM metadata is not supported yet)");
        }
        HttpClient http = SourceAccess.client(source);
        for (String suite : source.suites()) {
            if (suite.endsWith("/")) {
                throw new SourceException("source " + source.id() + ": flat repositories (suite " + suite
                        + ") are not supported");
            }
            ReleaseFile release = release(source, suite, http);
            try {
                release.requireValidAt(Instant.now());
            } catch (SourceException e) {
                throw new SourceException("source " + source.id() + " suite " + suite + ": " + e.getMessage(), e);
            }
            List<String> archs = source.architectures().isEmpty() ? List.of(arch) : source.architectures();
            for (String component : source.components()) {
                for (String a : archs) {
                    if (!a.equals(arch) && !a.equals("all")) {
                        continue;
                    }
                    Path packages = packages(source, suite, component + "/binary-" + a + "/Packages", release, http);
                    try (InputStream in = Files.newInputStream(packages)) {
                        PackagesParser.parse(in, source.id(), source.url(), packages, sink);
                    } catch (IOException e) {
                        throw new SourceException("source " + source.id() + ": cannot read " + packages, e);
                    }
                }
            }
        }
    }

    private Path suiteDir(Source source, String suite) {
        return cacheDir.resolve(source.id()).resolve(suite.replace('/', '_'));
    }

    private ReleaseFile release(Source source, String suite, HttpClient http) {
        Path dir = suiteDir(source, suite);
        Path cached = dir.resolve("Release");
        String base = stripSlash(source.url()) + "/dists/" + suite + "/";
        try {
            Files.createDirectories(dir);
            Properties state = loadState(dir);
            if (!SourceAccess.trust(source).equals(state.getProperty("trust"))) {
                // fetched under other trust settings (say with check_gpg off): nothing of it is reused unverified
                Files.deleteIfExists(cached);
                Files.deleteIfExists(dir.resolve("InRelease.raw"));
                state.clear();
            }
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + "InRelease")).timeout(TIMEOUT);
            if (Files.exists(cached)) {
                if (state.getProperty("etag") != null) {
                    req.header("If-None-Match", state.getProperty("etag"));
                }
                if (state.getProperty("last-modified") != null) {
                    req.header("If-Modified-Since", state.getProperty("last-modified"));
                }
            }
            HttpResponse<byte[]> resp = http.send(req.build(), HttpResponse.BodyHandlers.ofByteArray());
            byte[] text;
            if (resp.statusCode() == 304) {
                return ReleaseFile.parse(Files.readAllBytes(cached));
            } else if (resp.statusCode() == 200) {
                Path raw = dir.resolve("InRelease.raw");
                if (Files.exists(cached) && Files.exists(raw) && Arrays.equals(Files.readAllBytes(raw), resp.body())) {
                    return ReleaseFile.parse(Files.readAllBytes(cached)); // the very bytes verified before
                }
                text = source.checkGpg() ? SourceAccess.verifier(source).verifyClearSigned(resp.body())
                        : stripSignature(resp.body());
                AtomicFiles.write(raw, resp.body());
            } else if (resp.statusCode() == 404) {
                text = detached(source, base, http);
            } else {
                throw new IOException("HTTP " + resp.statusCode() + " for " + base + "InRelease");
            }
            AtomicFiles.write(cached, text);
            state.clear();
            state.setProperty("trust", SourceAccess.trust(source));
            resp.headers().firstValue("ETag").ifPresent(v -> state.setProperty("etag", v));
            resp.headers().firstValue("Last-Modified").ifPresent(v -> state.setProperty("last-modified", v));
            saveState(dir, state);
            return ReleaseFile.parse(text);
        } catch (SourceException e) {
            throw new SourceException("source " + source.id() + " (" + base + "): " + e.getMessage(), e);
        } catch (IOException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            if (Files.exists(cached)) {
                log.warn("source {}: {} cannot be fetched ({}); using the last verified copy", source.id(), base, e.toString());
                try {
                    return ReleaseFile.parse(Files.readAllBytes(cached));
                } catch (IOException io) {
                    throw new SourceException("source " + source.id() + ": cannot read " + cached, io);
                }
            }
            throw new SourceException("source " + source.id() + ": cannot fetch " + base + "InRelease: " + e, e);
        }
    }

    private byte[] detached(Source source, String base, HttpClient http) throws IOException, InterruptedException {
        HttpResponse<byte[]> release = http.send(HttpRequest.newBuilder(URI.create(base + "Release")).timeout(TIMEOUT)
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        if (release.statusCode() != 200) {
            throw new SourceException("neither InRelease nor Release found (HTTP " + release.statusCode() + ")");
        }
        if (source.checkGpg()) {
            HttpResponse<byte[]> sig = http.send(HttpRequest.newBuilder(URI.create(base + "Release.gpg"))
                    .timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofByteArray());
            if (sig.statusCode() != 200) {
                throw new SourceException("Release is not signed (no InRelease, no Release.gpg)");
            }
            SourceAccess.verifier(source).verifyDetached(release.body(), sig.body());
        }
        return release.body();
    }

    private static byte[] stripSignature(byte[] inRelease) {
        String text = new String(inRelease, StandardCharsets.UTF_8);
        int start = text.indexOf("\n\n");
        int end = text.indexOf("-----BEGIN PGP SIGNATURE-----");
        if (text.startsWith("-----BEGIN PGP SIGNED MESSAGE-----") && start > 0 && end > start) {
            return text.substring(start + 2, end).getBytes(StandardCharsets.UTF_8);
        }
        return inRelease;
    }

    /** The uncompressed index, from the cache when its hash is known, else downloaded and checked. */
    private Path packages(Source source, String suite, String path, ReleaseFile release, HttpClient http) {
        Path dir = suiteDir(source, suite).resolve(path.replace('/', '_'));
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new SourceException("cannot create " + dir, e);
        }
        for (String ext : COMPRESSIONS) {
            ReleaseFile.Entry entry = release.sha256().get(path + ext);
            if (entry == null) {
                continue;
            }
            Path target = dir.resolve(entry.hash() + ".Packages");
            if (Files.exists(target)) {
                return target;
            }
            String url = stripSlash(source.url()) + "/dists/" + suite + "/" + path + ext;
            Path tmp = null;
            try {
                tmp = Files.createTempFile(dir, ".download", ".tmp");
                HttpResponse<Path> resp = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(10))
                        .build(), HttpResponse.BodyHandlers.ofFile(tmp));
                if (resp.statusCode() == 404) {
                    continue; // listed but not served in this compression: try the next
                }
                if (resp.statusCode() != 200) {
                    throw new SourceException("source " + source.id() + ": HTTP " + resp.statusCode() + " for " + url);
                }
                String actual = AtomicFiles.sha256(tmp);
                if (!actual.equals(entry.hash()) || Files.size(tmp) != entry.size()) {
                    throw new SourceException("source " + source.id() + ": " + url + " does not match the SHA256 "
                            + "in the signed Release file (tampered or corrupt); got " + actual);
                }
                Path plain = Files.createTempFile(dir, ".plain", ".tmp");
                try (InputStream in = decompress(Files.newInputStream(tmp), ext);
                     OutputStream out = Files.newOutputStream(plain)) {
                    in.transferTo(out);
                }
                Files.move(plain, target, StandardCopyOption.ATOMIC_MOVE);
                prune(dir, target);
                return target;
            } catch (IOException | InterruptedException e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                Path last = lastGood(dir);
                if (last != null) {
                    log.warn("source {}: {} cannot be fetched ({}); using the last verified index", source.id(), url, e.toString());
                    return last;
                }
                throw new SourceException("source " + source.id() + ": cannot fetch " + url + ": " + e, e);
            } finally {
                if (tmp != null) {
                    try {
                        Files.deleteIfExists(tmp);
                    } catch (IOException ignored) {
                        // a temporary file left behind is removed with the next prune
                    }
                }
            }
        }
        throw new SourceException("source " + source.id() + ": suite " + suite + " lists no " + path);
    }

    private static InputStream decompress(InputStream in, String ext) throws IOException {
        return switch (ext) {
            case ".xz" -> new XZInputStream(in);
            case ".gz" -> new GZIPInputStream(in, 1 << 16);
            default -> in;
        };
    }

    /** Keeps only {@code keep} in an index's directory: older versions are superseded by the Release file. */
    private static void prune(Path dir, Path keep) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                if (!f.equals(keep)) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /** The index kept from an earlier fetch, if any. */
    private static Path lastGood(Path dir) {
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".Packages")).findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    private static Properties loadState(Path dir) throws IOException {
        Properties p = new Properties();
        Path f = dir.resolve("InRelease.state");
        if (Files.exists(f)) {
            try (InputStream in = Files.newInputStream(f)) {
                p.load(in);
            }
        }
        return p;
    }

    private static void saveState(Path dir, Properties p) throws IOException {
        StringWriter w = new StringWriter();
        p.store(w, null);
        AtomicFiles.writeString(dir.resolve("InRelease.state"), w.toString());
    }

    private static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
