package dev.kiln.image;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.kiln.blueprint.Blueprint;
import dev.kiln.blueprint.BlueprintParser;
import dev.kiln.depsolve.DepsFile;
import dev.kiln.image.tree.Copyrights;
import dev.kiln.output.OutputType;
import dev.kiln.source.Distro;
import dev.kiln.source.Distros;
import dev.kiln.store.ResultsDir;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The image's software bill of materials ({@code results/<UUID>/sbom.spdx.json}): an SPDX 2.3 JSON document whose
 * one described package is the image, containing every package of the frozen set ({@code deps.toml}) with its
 * version, the SHA-256 and address the build checked and fetched it by, the source it came from, a {@code purl}, and
 * the licence its machine-readable copyright file declares in the installed tree (else {@code NOASSERTION}).
 * Written from the tree before the image is made; its time is the tree's source date epoch, so that the same
 * package set gives the same document but for the compose's own id.
 */
public final class Sbom {

    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    static final String TOOL = "kiln-" + version();
    private static final Pattern SPDX_URL = Pattern.compile(
            "https?://([\\w.-]+@)?[a-z0-9]+([.-][a-z0-9]+)*\\.[a-z]{2,5}(:[0-9]{1,5})?(/[^\\s#]*)?");

    private Sbom() {
    }

    /** Writes the document of the compose whose tree is {@code tree} into its results directory. */
    static void write(ResultsDir results, OutputType type, Path tree, long sourceDateEpoch) throws IOException {
        List<Map<String, Object>> deps = DepsFile.read(results.read(ResultsDir.DEPS));
        Map<String, String> licences = Copyrights.declared(tree,
                deps.stream().map(d -> String.valueOf(d.get("name"))).toList());
        Blueprint blueprint = BlueprintParser.parseToml(results.read(ResultsDir.BLUEPRINT));
        results.write(ResultsDir.SBOM, document(results.uuid(), blueprint, type, deps, licences, sourceDateEpoch));
    }

    static String document(String uuid, Blueprint blueprint, OutputType type, List<Map<String, Object>> deps,
            Map<String, String> licences, long sourceDateEpoch) throws IOException {
        Distro distro = Distros.distro(blueprint.distro()).orElse(Distros.hostDistro());
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("spdxVersion", "SPDX-2.3");
        doc.put("dataLicense", "CC0-1.0");
        doc.put("SPDXID", "SPDXRef-DOCUMENT");
        doc.put("name", blueprint.name() + "-" + blueprint.version() + " " + type.id() + " (" + distro.name() + ")");
        doc.put("documentNamespace", "urn:uuid:" + uuid);
        doc.put("creationInfo", Map.of("created", Instant.ofEpochSecond(Math.max(0, sourceDateEpoch))
                .truncatedTo(ChronoUnit.SECONDS).toString(), "creators", List.of("Tool: " + TOOL)));
        List<Map<String, Object>> packages = new ArrayList<>();
        List<Map<String, Object>> relationships = new ArrayList<>();
        Map<String, Object> image = new LinkedHashMap<>();
        image.put("SPDXID", "SPDXRef-Image");
        image.put("name", type.imageName());
        image.put("versionInfo", blueprint.version());
        image.put("downloadLocation", "NOASSERTION");
        image.put("filesAnalyzed", false);
        image.put("primaryPackagePurpose", "OPERATING-SYSTEM");
        image.put("licenseConcluded", "NOASSERTION");
        image.put("licenseDeclared", "NOASSERTION");
        image.put("copyrightText", "NOASSERTION");
        image.put("comment", "Kiln compose " + uuid + " of blueprint " + blueprint.name() + " " + blueprint.version()
                + " as " + type.id() + ", " + distro.prettyName());
        packages.add(image);
        relationships.add(relation("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image"));
        int n = 0;
        for (Map<String, Object> d : deps) {
            String name = String.valueOf(d.get("name"));
            String id = "SPDXRef-Package-" + (++n) + "-" + name.replaceAll("[^A-Za-z0-9.-]", "-");
            String frozen = DepsFile.frozen(d);
            String version = frozen.substring(0, frozen.lastIndexOf('.'));
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("SPDXID", id);
            p.put("name", name);
            p.put("versionInfo", version);
            String url = d.get("remote_location") instanceof String u ? u : "";
            // SPDX's grammar takes a URL on a host name with a top-level domain; another (an address, a port-only
            // local mirror) is said in the comment instead
            p.put("downloadLocation", SPDX_URL.matcher(url).matches() ? url : "NOASSERTION");
            if (!url.isEmpty() && !SPDX_URL.matcher(url).matches()) {
                p.put("comment", "fetched from " + url);
            }
            p.put("filesAnalyzed", false);
            String checksum = String.valueOf(d.get("checksum"));
            if (checksum.startsWith("sha256:")) {
                p.put("checksums", List.of(Map.of("algorithm", "SHA256", "checksumValue", checksum.substring(7))));
            }
            p.put("sourceInfo", "from the repository source " + d.get("source_id") + " of " + distro.name());
            p.put("licenseConcluded", "NOASSERTION");
            p.put("licenseDeclared", licences.getOrDefault(name, "NOASSERTION"));
            p.put("copyrightText", "NOASSERTION");
            p.put("externalRefs", List.of(Map.of("referenceCategory", "PACKAGE-MANAGER", "referenceType", "purl",
                    "referenceLocator", "pkg:deb/" + distro.id() + "/" + name + "@" + encode(version) + "?arch="
                            + d.get("arch") + "&distro=" + distro.codename())));
            packages.add(p);
            relationships.add(relation("SPDXRef-Image", "CONTAINS", id));
        }
        doc.put("packages", packages);
        doc.put("relationships", relationships);
        return JSON.writeValueAsString(doc) + "\n";
    }

    private static Map<String, Object> relation(String from, String type, String to) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("spdxElementId", from);
        r.put("relationshipType", type);
        r.put("relatedSpdxElement", to);
        return r;
    }

    private static String encode(String version) {
        return URLEncoder.encode(version, StandardCharsets.UTF_8);
    }

    private static String version() {
        String v = Sbom.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
