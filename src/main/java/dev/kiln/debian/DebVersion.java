package dev.kiln.debian;

import java.util.Comparator;

/**
 * A Debian package version {@code [epoch:]upstream[-revision]}, ordered as dpkg orders them: epochs numerically,
 * then upstream and revision by dpkg's verrevcmp ({@code ~} sorts before everything, even the end).
 *
 * @param epoch    0 when absent
 * @param upstream the upstream version
 * @param revision the Debian revision, empty for native packages
 */
public record DebVersion(long epoch, String upstream, String revision) implements Comparable<DebVersion> {

    public static final Comparator<String> ORDER = (a, b) -> parse(a).compareTo(parse(b));

    public static DebVersion parse(String text) {
        String s = text.strip();
        long epoch = 0;
        int colon = s.indexOf(':');
        if (colon > 0) {
            try {
                epoch = Long.parseLong(s.substring(0, colon));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad epoch in version " + text);
            }
            s = s.substring(colon + 1);
        }
        int dash = s.lastIndexOf('-');
        if (dash >= 0) {
            return new DebVersion(epoch, s.substring(0, dash), s.substring(dash + 1));
        }
        return new DebVersion(epoch, s, "");
    }

    /** The version as dpkg writes it. */
    @Override
    public String toString() {
        return (epoch != 0 ? epoch + ":" : "") + upstream + (revision.isEmpty() ? "" : "-" + revision);
    }

    @Override
    public int compareTo(DebVersion o) {
        int c = Long.compare(epoch, o.epoch);
        if (c != 0) {
            return c;
        }
        c = verrevcmp(upstream, o.upstream);
        return c != 0 ? c : verrevcmp(revision, o.revision);
    }

    public static int compare(String a, String b) {
        return parse(a).compareTo(parse(b));
    }

    private static int order(char c) {
        if (Character.isDigit(c)) {
            return 0;
        }
        if (Character.isLetter(c) && c < 128) {
            return c;
        }
        if (c == '~') {
            return -1;
        }
        return c + 256;
    }

    /** dpkg's lib/dpkg/version.c verrevcmp, as an algorithm. */
    static int verrevcmp(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() || j < b.length()) {
            int firstDiff = 0;
            while ((i < a.length() && !Character.isDigit(a.charAt(i)))
                    || (j < b.length() && !Character.isDigit(b.charAt(j)))) {
                int ac = i < a.length() ? order(a.charAt(i)) : 0;
                int bc = j < b.length() ? order(b.charAt(j)) : 0;
                if (ac != bc) {
                    return ac - bc;
                }
                i++;
                j++;
            }
            while (i < a.length() && a.charAt(i) == '0') {
                i++;
            }
            while (j < b.length() && b.charAt(j) == '0') {
                j++;
            }
            while (i < a.length() && Character.isDigit(a.charAt(i))
                    && j < b.length() && Character.isDigit(b.charAt(j))) {
                if (firstDiff == 0) {
                    firstDiff = a.charAt(i) - b.charAt(j);
                }
                i++;
                j++;
            }
            if (i < a.length() && Character.isDigit(a.charAt(i))) {
                return 1;
            }
            if (j < b.length() && Character.isDigit(b.charAt(j))) {
                return -1;
            }
            if (firstDiff != 0) {
                return firstDiff;
            }
        }
        return 0;
    }
}
