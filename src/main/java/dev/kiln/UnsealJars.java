package dev.kiln;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Prepares the extracted copy of the jar that {@code bin/kiln-service} archives the classes of: every library jar
 * in the given directories whose manifest seals packages ({@code Sealed: true}, xz for one) is rewritten without
 * the seal. JDK 25's AOT cache cannot load classes of a sealed package (the JVM stops at start with "sealing
 * violation: can't seal package ... already defined"); a seal only forbids other jars to add classes to the package,
 * which nothing on Kiln's class path does. The jars Kiln runs from otherwise ({@code target/kiln.jar}) are not
 * touched. Prints the jars it rewrote.
 */
public final class UnsealJars {

    private UnsealJars() {
    }

    public static void main(String[] args) throws IOException {
        for (String dir : args) {
            List<Path> jars;
            try (Stream<Path> s = Files.list(Path.of(dir))) {
                jars = s.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
            }
            for (Path jar : jars) {
                if (unseal(jar)) {
                    System.out.println("unsealed " + jar);
                }
            }
        }
    }

    /** Rewrites {@code jar} without its manifest's seals, atomically; answers whether it had any. */
    static boolean unseal(Path jar) throws IOException {
        Manifest manifest;
        try (JarFile in = new JarFile(jar.toFile(), false)) {
            manifest = in.getManifest();
        }
        if (manifest == null || !removeSeals(manifest)) {
            return false;
        }
        Path tmp = Files.createTempFile(jar.toAbsolutePath().getParent(), "." + jar.getFileName(), ".tmp");
        try {
            try (JarFile in = new JarFile(jar.toFile(), false);
                    ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(tmp))) {
                ZipEntry m = new ZipEntry(JarFile.MANIFEST_NAME);
                m.setTime(in.getEntry(JarFile.MANIFEST_NAME) != null ? in.getEntry(JarFile.MANIFEST_NAME).getTime()
                        : System.currentTimeMillis());
                out.putNextEntry(m);
                manifest.write(out);
                out.closeEntry();
                for (Enumeration<? extends ZipEntry> e = in.entries(); e.hasMoreElements(); ) {
                    ZipEntry entry = e.nextElement();
                    if (entry.getName().equalsIgnoreCase(JarFile.MANIFEST_NAME)) {
                        continue;
                    }
                    ZipEntry copy = new ZipEntry(entry.getName());
                    copy.setTime(entry.getTime());
                    out.putNextEntry(copy);
                    if (!entry.isDirectory()) {
                        try (InputStream data = in.getInputStream(entry)) {
                            data.transferTo(out);
                        }
                    }
                    out.closeEntry();
                }
            }
            Files.move(tmp, jar, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return true;
    }

    /** Removes {@code Sealed} from the main section and every entry's; answers whether there was one. */
    static boolean removeSeals(Manifest manifest) {
        List<Attributes> sections = new ArrayList<>();
        sections.add(manifest.getMainAttributes());
        for (Map.Entry<String, Attributes> e : manifest.getEntries().entrySet()) {
            sections.add(e.getValue());
        }
        boolean any = false;
        for (Attributes a : sections) {
            any |= a.remove(Attributes.Name.SEALED) != null;
        }
        return any;
    }
}
