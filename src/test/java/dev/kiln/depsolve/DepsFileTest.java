package dev.kiln.depsolve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.blueprint.TomlWriter;
import dev.kiln.debian.PackagesParser;
import dev.kiln.debian.Pkg;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code deps.toml} read by its line reader gives what tomlj gives, and anything else goes to tomlj. */
class DepsFileTest {

    static List<Pkg> packages() throws Exception {
        String stanzas = """
                Package: libc6
                Version: 2.36-9+deb12u10
                Architecture: amd64
                Size: 2757936
                Installed-Size: 12991
                Filename: pool/main/g/glibc/libc6_2.36-9+deb12u10_amd64.deb
                SHA256: 0e5c1d08ef0f3bb4b5f7c5d3c64ec6f7e9e7bb8ad4a3b4c1b2d3e4f5a6b7c8d9

                Package: adduser
                Version: 3.134
                Architecture: all
                Size: 183272
                Installed-Size: 702
                Filename: pool/main/a/adduser/adduser_3.134_all.deb
                SHA256: c24fe4eb8e60d8632d72ed104cce7c92cff200847c897dc8ba764b6c47b519e0

                Package: sudo
                Version: 1:1.9.13p3-1+deb12u1
                Architecture: amd64
                Size: 1889132
                Installed-Size: 6199
                Filename: pool/main/s/sudo/sudo_1.9.13p3-1+deb12u1_amd64.deb
                SHA256: 1111111111111111111111111111111111111111111111111111111111111111
                """;
        List<Pkg> all = new ArrayList<>();
        PackagesParser.parse(new ByteArrayInputStream(stanzas.getBytes(StandardCharsets.UTF_8)), "debian",
                "http://repo.example/debian/", null, all::add);
        return all;
    }

    @Test
    void whatWriteGivesIsReadByTheLineReaderAsTomljReadsIt() throws Exception {
        String text = DepsFile.write(packages());
        List<Map<String, Object>> plain = DepsFile.readPlain(text);
        assertThat(plain).isNotNull().hasSize(3);
        assertThat(plain).isEqualTo(DepsFile.readToml(text));
        assertThat(plain.get(2)).containsEntry("name", "sudo").containsEntry("epoch", 1L)
                .containsEntry("version", "1.9.13p3").containsEntry("release", "1+deb12u1");
        assertThat(DepsFile.pin(plain.get(2))).isEqualTo("sudo=1:1.9.13p3-1+deb12u1");
        assertThat(DepsFile.readPlain("")).isEqualTo(DepsFile.readToml("")).isEmpty();
    }

    @Test
    void anyOtherFormGoesToTomljAndGivesTheSameMaps() {
        Map<String, Object> hostile = new LinkedHashMap<>();
        hostile.put("name", "we\"ird\\name\nwith\tbreaks\u0000and\u007f");
        hostile.put("epoch", 0L);
        hostile.put("size", Long.MAX_VALUE);
        String escaped = TomlWriter.write(Map.of("packages", List.of(hostile)));
        for (String text : List.of(escaped,
                "# a comment\n[[packages]]\nname = \"a\"\n",
                "[[packages]]\nname = \"a\" # trailing\n",
                "[[packages]]\r\nname = \"a\"\r\n",
                "[[packages]]\nname = 'literal'\n",
                "[[packages]]\nsize = 1_000\n",
                "[[packages]]\nsize = +5\n",
                "[[packages]]\nsize = 1234567890123456789\n",
                "[[packages]]\n\"quoted key\" = \"x\"\n",
                "[[packages]]\nname  =  \"spaced\"\n",
                "top = 1\n[[packages]]\nname = \"a\"\n",
                "[other]\nname = \"a\"\n")) {
            assertThat(DepsFile.readPlain(text)).as(text).isNull();
            assertThat(DepsFile.read(text)).as(text).isEqualTo(DepsFile.readToml(text));
        }
        assertThat(DepsFile.read(escaped).get(0)).isEqualTo(hostile);
    }

    @Test
    void aDamagedFileIsRefusedEitherWay() {
        assertThatThrownBy(() -> DepsFile.read("[[packages]]\nname = \"a\"\nname = \"b\"\n"))
                .hasMessageContaining("deps.toml is damaged");
        assertThatThrownBy(() -> DepsFile.read("[[packages]]\nname = \"unterminated\n"))
                .hasMessageContaining("deps.toml is damaged");
    }
}
