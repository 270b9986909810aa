package dev.kiln.image.tree;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The licence a package declares, read from its machine-readable copyright file ({@code /usr/share/doc/<name>/
 * copyright} in DEP-5 format: the {@code License:} of its {@code Files: *} paragraph) and written as an SPDX licence
 * expression; null where the file is missing, not machine-readable, or names a licence without an SPDX id.
 */
public final class Copyrights {

    /** Debian's short licence names (DEP-5 §7.1) → SPDX ids. */
    private static final Map<String, String> SPDX = new HashMap<>();

    static {
        for (String v : List.of("1", "2", "3")) {
            SPDX.put("gpl-" + v, "GPL-" + v + ".0-only");
            SPDX.put("gpl-" + v + "+", "GPL-" + v + ".0-or-later");
            SPDX.put("gpl-" + v + ".0", "GPL-" + v + ".0-only");
            SPDX.put("gpl-" + v + ".0+", "GPL-" + v + ".0-or-later");
        }
        for (String v : List.of("2", "2.1", "3")) {
            String id = v.equals("2.1") ? "2.1" : v + ".0";
            SPDX.put("lgpl-" + v, "LGPL-" + id + "-only");
            SPDX.put("lgpl-" + v + "+", "LGPL-" + id + "-or-later");
        }
        SPDX.put("agpl-3", "AGPL-3.0-only");
        SPDX.put("agpl-3+", "AGPL-3.0-or-later");
        SPDX.put("gfdl-1.2+", "GFDL-1.2-or-later");
        SPDX.put("gfdl-1.3+", "GFDL-1.3-or-later");
        SPDX.put("apache-2.0", "Apache-2.0");
        SPDX.put("apache-2", "Apache-2.0");
        SPDX.put("artistic", "Artistic-1.0-Perl");
        SPDX.put("artistic-2.0", "Artistic-2.0");
        SPDX.put("bsd-2-clause", "BSD-2-Clause");
        SPDX.put("bsd-3-clause", "BSD-3-Clause");
        SPDX.put("bsd-4-clause", "BSD-4-Clause");
        SPDX.put("expat", "MIT");
        SPDX.put("mit", "MIT");
        SPDX.put("isc", "ISC");
        SPDX.put("zlib", "Zlib");
        SPDX.put("mpl-1.1", "MPL-1.1");
        SPDX.put("mpl-2.0", "MPL-2.0");
        SPDX.put("cc0-1.0", "CC0-1.0");
        SPDX.put("psf-2", "PSF-2.0");
        SPDX.put("openssl", "OpenSSL");
        SPDX.put("curl", "curl");
        SPDX.put("unicode-dfs-2016", "Unicode-DFS-2016");
        SPDX.put("x11", "X11");
        SPDX.put("bsl-1.0", "BSL-1.0");
        SPDX.put("ftl", "FTL");
        SPDX.put("libpng", "Libpng");
        SPDX.put("wtfpl", "WTFPL");
        SPDX.put("sleepycat", "Sleepycat");
    }

    private Copyrights() {
    }

    /** The declared licence of each of {@code names} installed in {@code tree} (see the class comment). */
    public static Map<String, String> declared(Path tree, List<String> names) {
        Map<String, String> out = new HashMap<>();
        for (String name : names) {
            Path file = tree.resolve("usr/share/doc").resolve(name).resolve("copyright");
            try {
                // a package's doc directory may be a link to another package's: that is the licence it ships
                if (Files.isRegularFile(file) && Files.size(file) < 4 << 20
                        && file.toRealPath().startsWith(tree.toRealPath())) {
                    String expression = expression(Files.readString(file, StandardCharsets.UTF_8));
                    if (expression != null) {
                        out.put(name, expression);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // unreadable or not UTF-8: no assertion
            }
        }
        return out;
    }

    /** The SPDX expression of a DEP-5 copyright file's {@code Files: *} licence; null when there is none. */
    static String expression(String copyright) {
        if (!copyright.startsWith("Format:") || !copyright.lines().findFirst().orElse("").contains("copyright-format")) {
            return null;
        }
        for (String paragraph : copyright.split("\\n\\s*\\n")) {
            Map<String, String> fields = fields(paragraph);
            if ("*".equals(fields.get("files")) && fields.containsKey("license")) {
                return spdx(fields.get("license"));
            }
        }
        return null;
    }

    private static Map<String, String> fields(String paragraph) {
        Map<String, String> out = new HashMap<>();
        for (String line : paragraph.lines().toList()) {
            int colon = line.indexOf(':');
            if (!line.isEmpty() && !Character.isWhitespace(line.charAt(0)) && colon > 0) {
                out.putIfAbsent(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
            }
        }
        return out;
    }

    /** {@code GPL-2+ or Artistic} → {@code GPL-2.0-or-later OR Artistic-1.0-Perl}; null when a part has no SPDX id. */
    static String spdx(String debian) {
        List<String> parts = new ArrayList<>();
        String[] words = debian.strip().split("\\s+");
        for (int i = 0; i < words.length; i++) {
            String w = words[i].toLowerCase(Locale.ROOT).replaceAll(",$", "");
            if (w.equals("or") || w.equals("and")) {
                if (parts.isEmpty() || i == words.length - 1) {
                    return null;
                }
                parts.add(w.toUpperCase(Locale.ROOT));
            } else {
                String id = SPDX.get(w);
                if (id == null || !parts.isEmpty() && !parts.get(parts.size() - 1).matches("OR|AND")) {
                    return null;
                }
                parts.add(id);
            }
        }
        return parts.isEmpty() ? null : String.join(" ", parts);
    }
}
