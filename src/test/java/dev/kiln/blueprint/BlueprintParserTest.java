package dev.kiln.blueprint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BlueprintParserTest {

    static final String HTTP = """
            name = "http-server"
            description = "An example http server"
            version = "0.2.0"
            distro = "debian-12"

            [[packages]]
            name = "tmux"
            version = "3.*"

            [[packages]]
            name = "Apache2"

            [[modules]]
            name = "php"
            version = "*"

            [customizations]
            hostname = "web"

            [customizations.kernel]
            append = "nosmt=force"

            [[customizations.sshkey]]
            user = "root"
            key = "ssh-ed25519 AAAA"

            [[customizations.user]]
            name = "admin"
            groups = ["users", "wheel"]
            uid = 1200

            [customizations.firewall.services]
            enabled = ["http"]

            [customizations.installer]
            unattended = true
            """;

    @Test
    void tomlKeepsEverythingAndSortsTheListsByName() {
        Blueprint bp = BlueprintParser.parseToml(HTTP);
        assertThat(bp.name()).isEqualTo("http-server");
        assertThat(bp.version()).isEqualTo("0.2.0");
        assertThat(bp.packages()).extracting(p -> p.get("name")).containsExactly("Apache2", "tmux");
        assertThat(bp.packages().get(0)).containsEntry("version", "*");
        assertThat(bp.groups()).isEmpty();
        assertThat(bp.data()).containsEntry("distro", "debian-12");
        assertThat(bp.customizations()).containsKeys("hostname", "kernel", "sshkey", "user", "firewall", "installer");
    }

    @Test
    void writtenTomlReadsBackEqual() {
        Blueprint bp = BlueprintParser.parseToml(HTTP);
        assertThat(BlueprintParser.parseToml(bp.toToml())).isEqualTo(bp);
    }

    @Test
    void jsonAndTomlGiveTheSameBlueprint() {
        String json = """
                {"name": "http-server", "description": "An example http server", "version": "0.2.0",
                 "distro": "debian-12",
                 "packages": [{"name": "tmux", "version": "3.*"}, {"name": "Apache2"}],
                 "modules": [{"name": "php", "version": "*"}],
                 "customizations": {"hostname": "web", "kernel": {"append": "nosmt=force"},
                   "sshkey": [{"user": "root", "key": "ssh-ed25519 AAAA"}],
                   "user": [{"name": "admin", "groups": ["users", "wheel"], "uid": 1200}],
                   "firewall": {"services": {"enabled": ["http"]}},
                   "installer": {"unattended": true}}}
                """;
        assertThat(BlueprintParser.parseJson(json).data()).isEqualTo(BlueprintParser.parseToml(HTTP).data());
    }

    @Test
    void stringsWithQuotesAndControlCharactersSurviveTheWriter() {
        Blueprint bp = BlueprintParser.parseToml("name = \"q\"\ndescription = \"say \\\"hi\\\"\\n\\tback\\\\slash \\u0001 ünï\"\n");
        assertThat(BlueprintParser.parseToml(bp.toToml()).description()).isEqualTo("say \"hi\"\n\tback\\slash \u0001 ünï");
    }

    @Test
    void schemaErrorsAreCollectedIntoOneMessage() {
        assertThatThrownBy(() -> BlueprintParser.parseToml("""
                Name = "x"
                version = "1.0"
                [[packages]]
                version = "1"
                [customizations.kernel]
                name = "k"
                """))
                .isInstanceOf(BlueprintException.class)
                .hasFieldOrPropertyWithValue("kind", BlueprintException.Kind.INVALID)
                .hasMessageContaining("Name should be name")
                .hasMessageContaining("Missing 'name'")
                .hasMessageContaining("Invalid 'version', must use Semantic Versioning")
                .hasMessageContaining("'packages' errors:\n1 is missing 'name'")
                .hasMessageContaining("'customizations.kernel' must have an 'append' string");
    }

    @Test
    void malformedDocumentsAreBlueprintErrors() {
        assertThatThrownBy(() -> BlueprintParser.parseToml("name = \"x"))
                .hasFieldOrPropertyWithValue("kind", BlueprintException.Kind.INVALID)
                .hasMessageStartingWith("TOML parse error");
        assertThatThrownBy(() -> BlueprintParser.parseJson("{\"name\": "))
                .hasFieldOrPropertyWithValue("kind", BlueprintException.Kind.INVALID);
        assertThatThrownBy(() -> BlueprintParser.parseJson("[1, 2]"))
                .hasFieldOrPropertyWithValue("kind", BlueprintException.Kind.INVALID);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a/b", "..", "../etc", ".hidden", "a..b", "with space", "ünïcode", "a,b", ""})
    void namesThatCouldReachTheFileSystemAreInvalidChars(String name) {
        assertThatThrownBy(() -> BlueprintParser.parseJson("{\"name\": \"" + name + "\"}"))
                .hasFieldOrPropertyWithValue("kind", BlueprintException.Kind.INVALID_NAME)
                .hasMessage("Invalid characters in API path");
    }

    @Test
    void lorexArrayOfCustomizationsUsesTheFirst() {
        Blueprint bp = BlueprintParser.parseToml("name = \"c\"\n[[customizations]]\nhostname = \"one\"\n");
        assertThat(bp.customizations()).isEqualTo(Map.of("hostname", "one"));
    }

    @Test
    void nextPatchFollowsLorax() {
        assertThat(SemVer.nextPatch("0.0.1")).isEqualTo("0.0.2");
        assertThat(SemVer.nextPatch("0.2.0")).isEqualTo("0.2.1");
        assertThat(SemVer.nextPatch("1.0.0-rc1")).isEqualTo("1.0.0");
        assertThat(List.of("1", "1.0", "01.0.0", "a.b.c")).noneMatch(SemVer::isValid);
    }
}
