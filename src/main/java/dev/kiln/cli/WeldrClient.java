package dev.kiln.cli;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * A small HTTP/1.1 client for the Weldr API over the unix socket (as composer-cli talks to it) or over TCP
 * ({@code --url}). One request per connection ({@code Connection: close}); chunked bodies are decoded.
 */
public final class WeldrClient {

    private final String socket;
    private final URI url;
    private final String token;

    /** A response: status code, headers with lower-case names, and the body. */
    public record Response(int status, Map<String, String> headers, byte[] body) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** Talks to {@code url} when given (http://host:port), else to the unix socket. */
    public WeldrClient(String socket, URI url) {
        this(socket, url, null);
    }

    /** As {@link #WeldrClient(String, URI)}; {@code token} is sent as a bearer credential (TCP needs it). */
    public WeldrClient(String socket, URI url, String token) {
        this.socket = socket;
        this.url = url;
        this.token = token;
        if (token != null && !token.matches("[\\x21-\\x7E]+")) {
            throw new IllegalArgumentException("the API token must be one word of printable characters");
        }
    }

    public Response get(String path) throws IOException {
        return send("GET", path, null, null);
    }

    public Response delete(String path) throws IOException {
        return send("DELETE", path, null, null);
    }

    public Response post(String path, String contentType, byte[] body) throws IOException {
        return send("POST", path, contentType, body);
    }

    public Response send(String method, String path, String contentType, byte[] body) throws IOException {
        return send(method, path, contentType, body, null);
    }

    /**
     * GETs {@code path}; a 200 body is streamed into {@code sink} (not kept in memory), any other answer is returned
     * whole so that its error envelope can be read.
     */
    public Response download(String path, Function<Map<String, String>, OutputStream> sink)
            throws IOException {
        return send("GET", path, null, null, sink);
    }

    private Response send(String method, String path, String contentType, byte[] body,
            Function<Map<String, String>, OutputStream> sink) throws IOException {
        try (Connection connection = connect()) {
            StringBuilder head = new StringBuilder();
            head.append(method).append(' ').append(path).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(url == null ? "localhost" : url.getAuthority()).append("\r\n")
                    .append("User-Agent: kiln-cli\r\nAccept: */*\r\nConnection: close\r\n");
            if (contentType != null) {
                head.append("Content-Type: ").append(contentType).append("\r\n");
            }
            if (token != null) {
                head.append("Authorization: Bearer ").append(token).append("\r\n");
            }
            byte[] payload = body == null ? new byte[0] : body;
            if (body != null || !method.equals("GET")) {
                head.append("Content-Length: ").append(payload.length).append("\r\n");
            }
            head.append("\r\n");
            OutputStream out = connection.out();
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.write(payload);
            out.flush();
            return read(connection.in(), sink);
        }
    }

    private record Connection(AutoCloseable channel, InputStream in, OutputStream out) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try {
                channel.close();
            } catch (IOException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e);
            }
        }
    }

    private Connection connect() throws IOException {
        if (url != null) {
            Socket s = new Socket();
            s.connect(new InetSocketAddress(url.getHost(), url.getPort() < 0 ? 80 : url.getPort()), 10_000);
            return new Connection(s, s.getInputStream(), s.getOutputStream());
        }
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot connect to " + socket + ": " + e.getMessage(), e);
        }
        return new Connection(channel, Channels.newInputStream(channel), Channels.newOutputStream(channel));
    }

    private static Response read(InputStream raw, Function<Map<String, String>, OutputStream> sink)
            throws IOException {
        InputStream in = new BufferedInputStream(raw);
        String statusLine = line(in);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new IOException("not an HTTP response: " + statusLine);
        }
        int status = Integer.parseInt(parts[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
            int colon = h.indexOf(':');
            if (colon > 0) {
                headers.put(h.substring(0, colon).strip().toLowerCase(Locale.ROOT), h.substring(colon + 1).strip());
            }
        }
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        OutputStream out = status == 200 && sink != null ? sink.apply(headers) : buffer;
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            for (int size = chunkSize(in); size > 0; size = chunkSize(in)) {
                copy(in, out, size);
                line(in);
            }
        } else if (headers.containsKey("content-length")) {
            copy(in, out, Long.parseLong(headers.get("content-length")));
        } else {
            in.transferTo(out);
        }
        out.flush();
        return new Response(status, headers, buffer.toByteArray());
    }

    private static void copy(InputStream in, OutputStream out, long n) throws IOException {
        byte[] buf = new byte[1 << 16];
        long left = n;
        while (left > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (r < 0) {
                throw new IOException("connection closed " + left + " bytes before the end of the body");
            }
            out.write(buf, 0, r);
            left -= r;
        }
    }

    private static int chunkSize(InputStream in) throws IOException {
        String line = line(in);
        int semi = line.indexOf(';');
        return Integer.parseInt((semi >= 0 ? line.substring(0, semi) : line).strip(), 16);
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                buf.write(c);
            }
        }
        if (c == -1 && buf.size() == 0) {
            throw new IOException("connection closed by the server");
        }
        return buf.toString(StandardCharsets.ISO_8859_1);
    }
}
