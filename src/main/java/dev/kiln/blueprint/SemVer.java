package dev.kiln.blueprint;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Semantic versions as blueprints use them (MAJOR.MINOR.PATCH with optional pre-release and build). */
final class SemVer {

    private static final Pattern SEMVER = Pattern.compile(
            "(0|[1-9]\\d{0,8})\\.(0|[1-9]\\d{0,8})\\.(0|[1-9]\\d{0,8})(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?");

    private SemVer() {
    }

    static boolean isValid(String version) {
        return SEMVER.matcher(version).matches();
    }

    /** The next patch release: 0.0.1 → 0.0.2; a pre-release 1.0.0-rc1 → 1.0.0. */
    static String nextPatch(String version) {
        Matcher m = SEMVER.matcher(version);
        if (!m.matches()) {
            throw BlueprintException.invalid("Invalid 'version', must use Semantic Versioning");
        }
        long patch = Long.parseLong(m.group(3));
        if (m.group(4) == null) {
            patch++;
        }
        return m.group(1) + "." + m.group(2) + "." + patch;
    }
}
