package dev.kiln.image.tree;

import dev.kiln.image.sandbox.ToolFailedException;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * dpkg's failures told by the package that failed: {@code dpkg: error processing package X (--configure):} and
 * the line after it ({@code installed X package post-installation script subprocess returned error exit status 1})
 * become "package X: its postinst exited with status 1 (dpkg --configure)".
 */
final class DpkgErrors {

    private static final Pattern ERROR = Pattern.compile(
            "dpkg: error processing (?:package|archive) (\\S+) \\((--[a-z-]+)\\):\\s*\\R\\s*(.+)");
    private static final Pattern SCRIPT = Pattern.compile(
            "(?:installed|new|old) \\S+ package (pre|post)-(installation|removal) script subprocess returned error exit status (\\d+)");
    private static final Map<String, String> SCRIPTS = Map.of("pre-installation", "preinst",
            "post-installation", "postinst", "pre-removal", "prerm", "post-removal", "postrm");

    private DpkgErrors() {
    }

    /** {@code e} (a dpkg run that failed) with a message naming the package and its script; as it was otherwise. */
    static ToolFailedException explain(ToolFailedException e) {
        Matcher m = ERROR.matcher(e.output());
        if (!m.find()) {
            return e;
        }
        String pkg = m.group(1).replaceFirst("^.*/", "").replaceFirst("\\.deb$", "");
        String detail = m.group(3).strip();
        Matcher s = SCRIPT.matcher(detail);
        String what = s.find() ? "its " + SCRIPTS.get(s.group(1) + "-" + s.group(2)) + " exited with status " + s.group(3)
                : detail;
        return e.as("package " + pkg + ": " + what + " (dpkg " + m.group(2) + ")", ownLines(e.output(), pkg, m.start(),
                m.end()));
    }

    /**
     * What the failing package's scripts printed: the output from dpkg's last line about the package before the
     * error ("Setting up X", "Unpacking X", "Preparing to unpack …X…") to the error's own two lines. dpkg goes on
     * with the other packages after a failure, so the end of its output is theirs.
     */
    static String ownLines(String output, String pkg, int errorStart, int errorEnd) {
        String before = output.substring(0, errorStart);
        int from = -1;
        for (String start : new String[] {"Setting up " + pkg + " ", "Setting up " + pkg + ":", "Unpacking " + pkg + " ",
                "Unpacking " + pkg + ":", "Preparing to unpack "}) {
            int at = before.lastIndexOf(start);
            if (at >= 0 && (!start.startsWith("Preparing") || before.indexOf(pkg, at) >= 0)) {
                from = Math.max(from, at);
            }
        }
        return output.substring(from < 0 ? errorStart : from, errorEnd);
    }
}
