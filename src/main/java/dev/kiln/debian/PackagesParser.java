package dev.kiln.debian;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Reads a Debian {@code Packages} index (deb822 stanzas) and keeps only the fields the solver and the build need;
 * the long description stays on disk (the stanza's byte offset is kept instead).
 */
public final class PackagesParser {

    private static final Map<String, String> KEYS = new HashMap<>();

    static {
        for (String k : List.of("Package", "Version", "Architecture", "Multi-Arch", "Essential", "Priority", "Depends",
                "Pre-Depends", "Conflicts", "Breaks", "Provides", "Filename", "Size", "Installed-Size", "SHA256",
                "Description", "Homepage", "Section")) {
            KEYS.put(k, k);
        }
    }

    private PackagesParser() {
    }

    /** Parses {@code in}, handing each complete package to {@code sink}. */
    public static void parse(InputStream in, String sourceId, String baseUrl, Path file, Consumer<Pkg> sink)
            throws IOException {
        parse(in.readAllBytes(), sourceId, baseUrl, file, sink);
    }

    /**
     * Parses an index held in memory: lines are scanned as bytes and only the kept fields are decoded, since
     * most of an index is long descriptions that the solver never reads.
     */
    public static void parse(byte[] data, String sourceId, String baseUrl, Path file, Consumer<Pkg> sink) {
        Pkg.Builder current = null;
        int stanzaStart = 0;
        int pos = 0;
        int n = data.length;
        while (pos <= n) {
            int end = pos;
            while (end < n && data[end] != '\n') {
                end++;
            }
            int lineEnd = end > pos && data[end - 1] == '\r' ? end - 1 : end;
            if (lineEnd == pos) {
                if (current != null && current.complete()) {
                    sink.accept(current.origin(sourceId, baseUrl, file, stanzaStart).build());
                }
                current = null;
            } else if (data[pos] != ' ' && data[pos] != '\t') {
                if (current == null) {
                    current = new Pkg.Builder();
                    stanzaStart = pos;
                }
                int colon = pos;
                while (colon < lineEnd && data[colon] != ':') {
                    colon++;
                }
                String key = colon < lineEnd ? KEYS.get(new String(data, pos, colon - pos, StandardCharsets.ISO_8859_1)) : null;
                if (key != null) {
                    int v = colon + 1;
                    while (v < lineEnd && (data[v] == ' ' || data[v] == '\t')) {
                        v++;
                    }
                    int ve = lineEnd;
                    while (ve > v && (data[ve - 1] == ' ' || data[ve - 1] == '\t')) {
                        ve--;
                    }
                    current.field(key, new String(data, v, ve - v, StandardCharsets.UTF_8));
                }
            }
            pos = end + 1;
        }
        if (current != null && current.complete()) {
            sink.accept(current.origin(sourceId, baseUrl, file, stanzaStart).build());
        }
    }

    /** The full stanza of a package, read back from its cached index (for the long description). */
    public static Map<String, String> stanza(Pkg p) throws IOException {
        Map<String, String> fields = new LinkedHashMap<>();
        if (p.indexFile == null) {
            return fields;
        }
        try (RandomAccessFile f = new RandomAccessFile(p.indexFile.toFile(), "r")) {
            f.seek(p.offset);
            ByteArrayOutputStream stanza = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int read;
            int prev = -1;
            outer:
            while ((read = f.read(buf)) > 0) {
                for (int i = 0; i < read; i++) {
                    if (buf[i] == '\n' && prev == '\n') {
                        break outer;
                    }
                    stanza.write(buf[i]);
                    prev = buf[i];
                }
            }
            String key = null;
            for (String line : stanza.toString(StandardCharsets.UTF_8).split("\n")) {
                if ((line.startsWith(" ") || line.startsWith("\t")) && key != null) {
                    fields.merge(key, "\n" + line.substring(1), String::concat);
                } else if (line.indexOf(':') > 0) {
                    key = line.substring(0, line.indexOf(':'));
                    fields.put(key, line.substring(line.indexOf(':') + 1).strip());
                }
            }
        }
        return fields;
    }
}
