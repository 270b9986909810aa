package dev.kiln.depsolve;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Reads a Debian {@code Packages} index (deb822 stanzas) and keeps only the fields the solver and the build need;
 * the long description stays on disk (the stanza's byte offset is kept instead).
 */
public final class PackagesParser {

    private static final Set<String> KEPT = Set.of("Package", "Version", "Architecture", "Multi-Arch", "Essential",
            "Priority", "Depends", "Pre-Depends", "Conflicts", "Breaks", "Provides", "Filename", "Size",
            "Installed-Size", "SHA256", "Description", "Homepage", "Section");

    private PackagesParser() {
    }

    /** The full stanza of a package, read back from its cached index (for the long description). */
    public static java.util.Map<String, String> stanza(Pkg p) throws IOException {
        java.util.Map<String, String> fields = new java.util.LinkedHashMap<>();
        if (p.indexFile == null) {
            return fields;
        }
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(p.indexFile.toFile(), "r")) {
            f.seek(p.offset);
            ByteArrayOutputStream stanza = new ByteArrayOutputStream();
            int c;
            int prev = -1;
            while ((c = f.read()) != -1 && !(c == '\n' && prev == '\n')) {
                stanza.write(c);
                prev = c;
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

    /** Parses {@code in}, handing each complete package to {@code sink}. */
    public static void parse(InputStream in, String sourceId, String baseUrl, java.nio.file.Path file,
            Consumer<Pkg> sink) throws IOException {
        BufferedInputStream buf = new BufferedInputStream(in, 1 << 16);
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        long offset = 0;
        long stanzaStart = 0;
        Pkg.Builder current = null;
        String key = null;
        StringBuilder value = null;
        int c;
        boolean eof = false;
        while (!eof) {
            line.reset();
            long lineStart = offset;
            while ((c = buf.read()) != -1 && c != '\n') {
                line.write(c);
                offset++;
            }
            if (c == -1) {
                eof = true;
            } else {
                offset++;
            }
            if (line.size() == 0) {
                if (current != null) {
                    if (key != null) {
                        current.field(key, value.toString());
                    }
                    if (current.complete()) {
                        sink.accept(current.origin(sourceId, baseUrl, file, stanzaStart).build());
                    }
                    current = null;
                    key = null;
                }
                continue;
            }
            byte first = line.toByteArray()[0];
            if (first == ' ' || first == '\t') {
                continue; // continuation lines: only multi-line Description/Conffiles, which are not kept
            }
            if (current == null) {
                current = new Pkg.Builder();
                stanzaStart = lineStart;
            }
            if (key != null) {
                current.field(key, value.toString());
                key = null;
            }
            String text = line.toString(StandardCharsets.UTF_8);
            int colon = text.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String k = text.substring(0, colon);
            if (KEPT.contains(k)) {
                key = k;
                value = new StringBuilder(text.substring(colon + 1).strip());
            }
        }
        if (current != null) {
            if (key != null) {
                current.field(key, value.toString());
            }
            if (current.complete()) {
                sink.accept(current.origin(sourceId, baseUrl, file, stanzaStart).build());
            }
        }
    }
}
