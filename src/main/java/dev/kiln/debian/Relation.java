package dev.kiln.debian;

import java.util.ArrayList;
import java.util.List;

/**
 * One alternative of a Debian relation field: {@code name[:arch] [(op version)]}.
 *
 * @param name      package or virtual name
 * @param archQual  {@code any}, {@code native}, an architecture, or null
 * @param op        {@code <<}, {@code <=}, {@code =}, {@code >=}, {@code >>}, or null when unversioned
 * @param version   the version the op compares with, or null
 */
public record Relation(String name, String archQual, String op, String version) {

    /** Parses a field like {@code a (>= 1) | b:any, c} into AND-groups of OR-alternatives. */
    public static List<List<Relation>> parseField(String field) {
        List<List<Relation>> groups = new ArrayList<>();
        if (field == null || field.isBlank()) {
            return groups;
        }
        for (String group : field.split(",")) {
            if (group.isBlank()) {
                continue;
            }
            List<Relation> alternatives = new ArrayList<>();
            for (String alt : group.split("\\|")) {
                alternatives.add(parse(alt));
            }
            groups.add(alternatives);
        }
        return groups;
    }

    static Relation parse(String text) {
        String s = text.strip();
        String op = null;
        String version = null;
        int paren = s.indexOf('(');
        if (paren >= 0) {
            int close = s.indexOf(')', paren);
            String inner = s.substring(paren + 1, close < 0 ? s.length() : close).strip();
            s = s.substring(0, paren).strip();
            int i = 0;
            while (i < inner.length() && "<>=".indexOf(inner.charAt(i)) >= 0) {
                i++;
            }
            op = inner.substring(0, i);
            version = inner.substring(i).strip();
            op = switch (op) {
                case "<" -> "<=";  // obsolete forms, as dpkg reads them
                case ">" -> ">=";
                default -> op;
            };
        }
        String arch = null;
        int colon = s.indexOf(':');
        if (colon >= 0) {
            arch = s.substring(colon + 1);
            s = s.substring(0, colon);
        }
        return new Relation(s.intern(), arch, op, version);
    }

    /** True when {@code candidate} (a package's or a Provides' version) satisfies this relation's version. */
    public boolean versionMatches(String candidate) {
        if (op == null) {
            return true;
        }
        if (candidate == null) {
            return false; // an unversioned Provides never satisfies a versioned relation
        }
        int c = DebVersion.compare(candidate, version);
        return switch (op) {
            case "<<" -> c < 0;
            case "<=" -> c <= 0;
            case "=" -> c == 0;
            case ">=" -> c >= 0;
            case ">>" -> c > 0;
            default -> false;
        };
    }

    @Override
    public String toString() {
        return name + (archQual == null ? "" : ":" + archQual) + (op == null ? "" : " (" + op + " " + version + ")");
    }
}
