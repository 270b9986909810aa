package dev.kiln.blueprint;

import static dev.kiln.blueprint.Customizations.ACCOUNT;
import static dev.kiln.blueprint.Customizations.PATH;
import static dev.kiln.blueprint.Customizations.check;
import static dev.kiln.blueprint.Customizations.list;
import static dev.kiln.blueprint.Customizations.show;
import static dev.kiln.blueprint.Customizations.table;
import static dev.kiln.blueprint.Customizations.tables;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The grammar of the customizations that put the blueprint's own data into the tree: {@code directories} and
 * {@code files} (osbuild-composer's path policy: under {@code /etc} or {@code /root}, no {@code ..}, never
 * {@code /etc/fstab}, {@code /etc/shadow}, {@code /etc/passwd} or {@code /etc/group}), {@code repositories} (apt
 * sources in deb822 form, their keys given inline) and {@code cacerts} (X.509 certificates in PEM). Data (a file's
 * content, a key, a certificate) never enters the plan: the plan names it by its SHA-256 and the build takes it from
 * the frozen blueprint ({@link #digest}).
 */
public final class TreeCustomizations {

    private static final Set<String> DIRECTORY_KEYS = Set.of("path", "user", "group", "mode", "ensure_parents");
    private static final Set<String> FILE_KEYS = Set.of("path", "user", "group", "mode", "data");
    private static final Set<String> REPO_KEYS = Set.of("id", "name", "filename", "baseurls", "mirrorlist", "metalink",
            "gpgkeys", "gpgcheck", "repo_gpgcheck", "priority", "ssl_verify", "sslverify", "enabled",
            "module_hotfixes", "suites", "components");
    private static final List<String> PREFIXES = List.of("/etc/", "/root/");
    private static final Set<String> REFUSED_FILES = Set.of("/etc/fstab", "/etc/shadow", "/etc/passwd", "/etc/group",
            "/etc/gshadow");
    private static final Pattern MODE = Pattern.compile("0?[0-7]{3}");
    private static final Pattern REPO_ID = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}");
    /** An http(s) URL of plain characters: no space, quote, backslash or anything apt or a shell would act on. */
    private static final Pattern URL = Pattern.compile(
            "https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?(/[A-Za-z0-9._~%+=:@/-]{0,1024})?");
    /** A suite (a flat repository's ends in /): plain names, no {@code ..} element. */
    private static final Pattern SUITE = Pattern.compile("(?!(.*/)?\\.\\.(/.*)?$)[A-Za-z0-9_.][A-Za-z0-9_./-]{0,63}");
    private static final Pattern COMPONENT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}");
    private static final Pattern ARMORED_KEY = Pattern.compile("-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n"
            + "([A-Za-z-]{1,32}: [\\x20-\\x7E]{0,256}\r?\n)*\r?\n([A-Za-z0-9+/=]{1,128}\r?\n){1,2048}"
            + "(=[A-Za-z0-9+/]{4}\r?\n)?-----END PGP PUBLIC KEY BLOCK-----\r?\n?");
    /** The largest file a blueprint may put into the image, and the largest key or certificate. */
    public static final int MAX_DATA = 1 << 20;
    private static final int MAX_KEY = 64 << 10;
    private static final int MAX_ENTRIES = 1000;

    private TreeCustomizations() {
    }

    /** The SHA-256 of a piece of blueprint data, as the plan names it. */
    public static String digest(String data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(data.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A mode as the plan writes it: four octal digits. */
    public static String mode(Object mode) {
        String s = String.valueOf(mode);
        return s.length() == 3 ? "0" + s : s;
    }

    /**
     * The blueprint's data by SHA-256, as the plan names it: every file's content, every repository key, every
     * certificate entry.
     */
    public static Map<String, String> data(Map<String, Object> c) {
        Map<String, String> out = new java.util.HashMap<>();
        for (Object o : list(new ArrayList<>(), "files", c.get("files"))) {
            if (o instanceof Map<?, ?> f) {
                String d = f.get("data") instanceof String s ? s : "";
                out.put(digest(d), d);
            }
        }
        for (Object o : list(new ArrayList<>(), "repositories", c.get("repositories"))) {
            if (o instanceof Map<?, ?> r && r.get("gpgkeys") instanceof List<?> keys) {
                keys.forEach(k -> out.put(digest(String.valueOf(k)), String.valueOf(k)));
            }
        }
        if (c.get("cacerts") instanceof Map<?, ?> ca && ca.get("pem_certs") instanceof List<?> certs) {
            certs.forEach(k -> out.put(digest(String.valueOf(k)), String.valueOf(k)));
        }
        return out;
    }

    /**
     * Packages the image needs for these customizations: ca-certificates for {@code cacerts}, lvm2 for an LVM layout
     * (its initramfs hook activates the volume group at boot).
     */
    public static List<String> packagesNeeded(Map<String, Object> c) {
        List<String> out = new ArrayList<>();
        if (c.get("cacerts") instanceof Map<?, ?> ca && ca.get("pem_certs") instanceof List<?> l && !l.isEmpty()) {
            out.add("ca-certificates");
        }
        if (Customizations.lvm(c)) {
            out.add("lvm2");
        }
        return out;
    }

    static void problems(List<String> p, Map<String, Object> c) {
        Set<String> dirs = new HashSet<>();
        List<Map<?, ?>> directories = tables(p, "directories", c.get("directories"));
        if (directories.size() > MAX_ENTRIES) {
            p.add("directories: at most " + MAX_ENTRIES + " entries");
        }
        for (Map<?, ?> d : directories) {
            Customizations.unknownKeys(p, "directories", d, DIRECTORY_KEYS);
            if (path(p, "directories.path", d.get("path")) && !dirs.add((String) d.get("path"))) {
                p.add("directories.path: listed twice: " + show(d.get("path")));
            }
            owner(p, "directories", d);
            if (d.containsKey("ensure_parents") && !(d.get("ensure_parents") instanceof Boolean)) {
                p.add("directories.ensure_parents: must be true or false");
            }
        }
        Set<String> files = new HashSet<>();
        List<Map<?, ?>> fileList = tables(p, "files", c.get("files"));
        if (fileList.size() > MAX_ENTRIES) {
            p.add("files: at most " + MAX_ENTRIES + " entries");
        }
        for (Map<?, ?> f : fileList) {
            Customizations.unknownKeys(p, "files", f, FILE_KEYS);
            Object path = f.get("path");
            if (path(p, "files.path", path)) {
                if (REFUSED_FILES.contains(path)) {
                    p.add("files.path: " + path + " is written by Kiln from other customizations (users, groups, "
                            + "filesystem) and may not be replaced");
                } else if (dirs.contains(path)) {
                    p.add("files.path: also listed as a directory: " + show(path));
                } else if (!files.add((String) path)) {
                    p.add("files.path: listed twice: " + show(path));
                }
            }
            owner(p, "files", f);
            if (f.containsKey("data") && !(f.get("data") instanceof String s
                    && s.getBytes(StandardCharsets.UTF_8).length <= MAX_DATA)) {
                p.add("files.data: must be a string of at most " + (MAX_DATA >> 10) + " KiB");
            }
        }
        repositories(p, c.get("repositories"));
        if (c.containsKey("cacerts")) {
            Map<?, ?> ca = table(p, "cacerts", c.get("cacerts"));
            for (Object key : ca.keySet()) {
                if (!"pem_certs".equals(key)) {
                    p.add("cacerts: unknown field " + show(key));
                }
            }
            List<?> certs = list(p, "cacerts.pem_certs", ca.get("pem_certs"));
            if (certs.size() > 100) {
                p.add("cacerts.pem_certs: at most 100 certificates");
            }
            certs.forEach(cert -> certificate(p, cert));
        }
    }

    /** The certificates of a PEM entry, each re-encoded by its parser (what goes into the image); refused: none. */
    public static List<String> certificates(String pem) throws CertificateException {
        if (pem.length() > MAX_KEY || !pem.strip().startsWith("-----BEGIN CERTIFICATE-----")) {
            throw new CertificateException("not a PEM certificate (-----BEGIN CERTIFICATE-----), at most 64 KiB");
        }
        Collection<? extends Certificate> all = CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        if (all.isEmpty()) {
            throw new CertificateException("no certificate in it");
        }
        List<String> out = new ArrayList<>();
        for (Certificate cert : all) {
            out.add("-----BEGIN CERTIFICATE-----\n"
                    + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                            .encodeToString(cert.getEncoded())
                    + "\n-----END CERTIFICATE-----\n");
        }
        return out;
    }

    private static void certificate(List<String> p, Object cert) {
        if (!(cert instanceof String s)) {
            p.add("cacerts.pem_certs: every entry must be a string");
            return;
        }
        try {
            certificates(s);
        } catch (CertificateException | RuntimeException e) {
            p.add("cacerts.pem_certs: not an X.509 certificate in PEM form: " + show(e.getMessage()));
        }
    }

    private static void repositories(List<String> p, Object value) {
        Set<String> ids = new HashSet<>();
        Set<String> names = new HashSet<>();
        List<Map<?, ?>> repos = tables(p, "repositories", value);
        if (repos.size() > 100) {
            p.add("repositories: at most 100 entries");
        }
        for (Map<?, ?> r : repos) {
            Customizations.unknownKeys(p, "repositories", r, REPO_KEYS);
            check(p, "repositories.id", r.get("id"), REPO_ID);
            if (r.get("id") instanceof String id && !ids.add(id)) {
                p.add("repositories.id: listed twice: " + show(id));
            }
            if (r.containsKey("name")) {
                check(p, "repositories.name", r.get("name"), Customizations.TEXT);
            }
            if (r.containsKey("filename")) {
                check(p, "repositories.filename", r.get("filename"), REPO_ID);
            }
            Object file = r.containsKey("filename") ? fileName(r.get("filename")) : r.get("id");
            if (file instanceof String f && !names.add(f)) {
                p.add("repositories.filename: two repositories would be written to " + f + ".sources");
            }
            List<?> urls = list(p, "repositories.baseurls", r.get("baseurls"));
            urls.forEach(u -> check(p, "repositories.baseurls", u, URL));
            if (r.containsKey("mirrorlist")) {
                check(p, "repositories.mirrorlist", r.get("mirrorlist"), URL);
            }
            if (urls.isEmpty() && !r.containsKey("mirrorlist")) {
                p.add("repositories: " + show(r.get("id")) + " needs baseurls or a mirrorlist");
            }
            if (r.containsKey("metalink")) {
                p.add("repositories.metalink: apt has no metalinks; give baseurls or a mirrorlist (apt's mirror+ method)");
            }
            if (Boolean.TRUE.equals(r.get("module_hotfixes"))) {
                p.add("repositories.module_hotfixes: apt repositories have no modules");
            }
            for (String k : List.of("ssl_verify", "sslverify")) {
                if (r.containsKey(k) && !Boolean.TRUE.equals(r.get(k))) {
                    p.add("repositories." + k + ": Kiln does not write sources that skip the TLS check; only true "
                            + "is accepted");
                }
            }
            for (String k : List.of("gpgcheck", "repo_gpgcheck", "enabled")) {
                if (r.containsKey(k) && !(r.get(k) instanceof Boolean)) {
                    p.add("repositories." + k + ": must be true or false");
                }
            }
            if (r.containsKey("priority") && !((r.get("priority") instanceof Long || r.get("priority") instanceof Integer)
                    && ((Number) r.get("priority")).longValue() >= 1 && ((Number) r.get("priority")).longValue() <= 1000)) {
                p.add("repositories.priority: must be an integer from 1 to 1000");
            }
            List<?> suites = list(p, "repositories.suites", r.get("suites"));
            suites.forEach(s -> check(p, "repositories.suites", s, SUITE));
            List<?> components = list(p, "repositories.components", r.get("components"));
            components.forEach(s -> check(p, "repositories.components", s, COMPONENT));
            if (suites.stream().anyMatch(s -> String.valueOf(s).endsWith("/")) && !components.isEmpty()) {
                p.add("repositories.components: a flat repository (a suite ending in /) has no components");
            }
            List<?> keys = list(p, "repositories.gpgkeys", r.get("gpgkeys"));
            if (keys.size() > 16) {
                p.add("repositories.gpgkeys: at most 16 keys");
            }
            for (Object k : keys) {
                if (k instanceof String s && URL.matcher(s).matches()) {
                    p.add("repositories.gpgkeys: give the key itself (an ASCII-armored public key block): Kiln does "
                            + "not fetch keys at build time: " + show(s));
                } else if (!(k instanceof String s && s.length() <= MAX_KEY && ARMORED_KEY.matcher(s.strip() + "\n").matches())) {
                    p.add("repositories.gpgkeys: not an ASCII-armored OpenPGP public key block: " + show(k));
                }
            }
        }
    }

    /** A repository's file name without the suffix a blueprint for another system may give it. */
    public static String fileName(Object filename) {
        String f = String.valueOf(filename);
        for (String suffix : List.of(".repo", ".sources", ".list")) {
            if (f.endsWith(suffix) && f.length() > suffix.length()) {
                return f.substring(0, f.length() - suffix.length());
            }
        }
        return f;
    }

    private static boolean path(List<String> p, String field, Object path) {
        if (!(path instanceof String s) || !PATH.matcher(s).matches()) {
            p.add(field + ": an absolute path of plain names (no . or .., no trailing /): " + show(path));
            return false;
        }
        if (PREFIXES.stream().noneMatch(s::startsWith)) {
            p.add(field + ": must be under /etc or /root: " + show(path));
            return false;
        }
        return true;
    }

    private static void owner(List<String> p, String what, Map<?, ?> entry) {
        for (String field : List.of("user", "group")) {
            Object v = entry.get(field);
            if (v == null || v instanceof String s && ACCOUNT.matcher(s).matches()) {
                continue;
            }
            if (v instanceof Long || v instanceof Integer) {
                Customizations.id(p, what + "." + field, v);
            } else {
                p.add(what + "." + field + ": a name or a numeric id: " + show(v));
            }
        }
        if (entry.containsKey("mode") && !(entry.get("mode") instanceof String m && MODE.matcher(m).matches())) {
            p.add(what + ".mode: an octal mode as a string, such as \"0644\" (no setuid, setgid or sticky bit): "
                    + show(entry.get("mode")));
        }
    }
}
