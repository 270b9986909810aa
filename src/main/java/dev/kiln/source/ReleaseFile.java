package dev.kiln.source;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
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

    /**
     * Refuses a Release file whose {@code Valid-Until} has passed, as apt does: a signed but stale file is how a
     * mirror (or someone between it and us) would freeze a repository in the state before a security fix.
     */
    void requireValidAt(Instant now) {
        String until = fields.get("Valid-Until");
        if (until == null) {
            return;
        }
        Instant end;
        try { // RFC 2822 as Debian writes it ("Sat, 06 Dec 2026 08:31:04 UTC"); java.time knows that zone as GMT
            end = ZonedDateTime.parse(until.replaceFirst(" (UTC|Z)$", " GMT"), DateTimeFormatter.RFC_1123_DATE_TIME)
                    .toInstant();
        } catch (DateTimeParseException e) {
            throw new SourceException("the Release file's Valid-Until is not a date: " + until);
        }
        if (now.isAfter(end)) {
            throw new SourceException("the Release file expired at " + until + " (Valid-Until): the repository or "
                    + "its mirror is stale; refusing it, as apt does");
        }
    }
}
