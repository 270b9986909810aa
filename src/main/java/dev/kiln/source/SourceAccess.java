package dev.kiln.source;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * How a source is reached and trusted: its HTTP client (redirects followed, its proxy, TLS checked unless
 * {@code ssl_verify = false}) and the keys its signatures are checked with ({@code gpgkey_paths}, {@code gpgkey_urls}).
 */
final class SourceAccess {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private SourceAccess() {
    }

    /** What the cached Release was verified against: the URL, whether signatures are checked, and with which keys. */
    static String trust(Source source) {
        return source.url() + " gpg=" + source.checkGpg() + " ssl=" + source.checkSsl() + " paths="
                + source.gpgkeyPaths() + " urls=" + source.gpgkeyUrls();
    }

    static OpenPgpVerifier verifier(Source source) {
        List<Path> files = new ArrayList<>();
        for (String p : source.gpgkeyPaths()) {
            files.add(Path.of(p));
        }
        List<byte[]> rings = new ArrayList<>();
        for (Path f : files) {
            try {
                rings.add(Files.readAllBytes(f));
            } catch (IOException e) {
                throw new SourceException("cannot read keyring " + f + ": " + e.getMessage(), e);
            }
        }
        for (String u : source.gpgkeyUrls()) {
            rings.add(fetchKey(u));
        }
        if (rings.isEmpty()) {
            throw new SourceException("check_gpg is on but the source names no keyring (gpgkey_paths or gpgkey_urls)");
        }
        return OpenPgpVerifier.fromKeyrings(rings);
    }

    private static byte[] fetchKey(String url) {
        try {
            URI uri = URI.create(url);
            if ("file".equals(uri.getScheme())) {
                return Files.readAllBytes(Path.of(uri));
            }
            HttpResponse<byte[]> resp = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build()
                    .send(HttpRequest.newBuilder(uri).timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofByteArray());
            if (resp.statusCode() != 200) {
                throw new SourceException("cannot fetch key " + url + ": HTTP " + resp.statusCode());
            }
            return resp.body();
        } catch (IOException | InterruptedException | IllegalArgumentException e) {
            throw new SourceException("cannot fetch key " + url + ": " + e.getMessage(), e);
        }
    }

    static HttpClient client(Source source) {
        HttpClient.Builder b = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(20));
        if (source.proxy() != null && !source.proxy().isBlank()) {
            URI proxy = URI.create(source.proxy());
            b.proxy(ProxySelector.of(new InetSocketAddress(proxy.getHost(), proxy.getPort() < 0 ? 80 : proxy.getPort())));
        }
        if (!source.checkSsl()) {
            b.sslContext(trustAll());
        }
        return b.build();
    }

    private static SSLContext trustAll() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, new SecureRandom());
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
