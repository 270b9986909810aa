package dev.kiln.source;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** The parts of a (verified) Release file Kiln uses: its fields and the SHA256 list of index files. */
record ReleaseFile(Map<String, String> fields, Map<String, Entry> sha256) {

    /** One index file listed under SHA256. */
    record Entry(String hash, long size) {
    }

    static ReleaseFile parse(byte[] text) {
        Map<String, String> fields = new HashMap<>();
        Map<String, Entry> sums = new HashMap<>();
        String section = null;
        for (String line : new String(text, StandardCharsets.UTF_8).split("\n")) {
            if (line.startsWith(" ")) {
                if ("SHA256".equals(section)) {
                    String[] parts = line.strip().split("\\s+");
                    if (parts.length == 3) {
                        sums.put(parts[2], new Entry(parts[0].toLowerCase(), Long.parseLong(parts[1])));
                    }
                }
                continue;
            }
            int colon = line.indexOf(':');
            if (colon > 0) {
                section = line.substring(0, colon);
                fields.put(section, line.substring(colon + 1).strip());
            }
        }
        return new ReleaseFile(fields, sums);
    }
}
