package dev.kiln.blueprint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlueprintStoreTest {

    private static final String M = BlueprintStore.DEFAULT_BRANCH;

    @TempDir
    Path dir;
    BlueprintStore store;

    @BeforeEach
    void open() {
        store = new BlueprintStore(dir);
    }

    @AfterEach
    void close() {
        store.destroy();
    }

    private static Blueprint bp(String name, String version, String... packages) {
        StringBuilder toml = new StringBuilder("name = \"" + name + "\"\ndescription = \"d\"\n");
        if (version != null) {
            toml.append("version = \"").append(version).append("\"\n");
        }
        for (String p : packages) {
            toml.append("[[packages]]\nname = \"").append(p).append("\"\nversion = \"*\"\n");
        }
        return BlueprintParser.parseToml(toml.toString());
    }

    @Test
    void aFreshStoreHoldsTheExamples() {
        assertThat(store.list(M)).containsExactly("example-atlas", "example-development", "example-http-server");
        assertThat(store.committed(M, "example-http-server").orElseThrow().modules())
                .extracting(m -> m.get("name")).contains("apache2", "php");
    }

    @Test
    void versionRulesOfLorax() {
        assertThat(store.push(M, bp("a", null)).version()).isEqualTo("0.0.1");
        assertThat(store.push(M, bp("a", null)).version()).isEqualTo("0.0.2");
        assertThat(store.push(M, bp("a", "0.0.2")).version()).isEqualTo("0.0.3");
        assertThat(store.push(M, bp("a", "0.0.1")).version()).isEqualTo("0.0.1");
        assertThat(store.push(M, bp("b", "2.0.0")).version()).isEqualTo("2.0.0");
        assertThat(store.push(M, bp("b", "2.0.0")).version()).isEqualTo("2.0.1");
        assertThat(store.committed(M, "b").orElseThrow().version()).isEqualTo("2.0.1");
    }

    @Test
    void changesAreNewestFirstAndUndoBringsBackAnOldVersion() {
        store.push(M, bp("a", "0.1.0", "tmux"));
        store.push(M, bp("b", "0.1.0"));
        store.push(M, bp("a", "0.2.0", "tmux", "rsync"));
        List<BlueprintStore.Change> changes = store.changes(M, "a");
        assertThat(changes).extracting(BlueprintStore.Change::message)
                .containsExactly("Recipe a, version 0.2.0 saved.", "Recipe a, version 0.1.0 saved.");
        assertThat(changes.get(0).commit()).matches("[0-9a-f]{40}");

        store.undo(M, "a", changes.get(1).commit());
        Blueprint a = store.committed(M, "a").orElseThrow();
        assertThat(a.version()).isEqualTo("0.1.0");
        assertThat(a.packages()).extracting(p -> p.get("name")).containsExactly("tmux");
        assertThat(store.changes(M, "a").get(0).message())
                .isEqualTo("a.toml reverted to commit " + changes.get(1).commit());
        assertThat(store.workspace(M, "a")).contains(a);
    }

    @Test
    void deleteKeepsHistoryAndUndoResurrects() {
        store.push(M, bp("gone", "1.0.0"));
        String commit = store.changes(M, "gone").get(0).commit();
        store.delete(M, "gone");
        assertThat(store.list(M)).doesNotContain("gone");
        assertThat(store.info(M, "gone")).isEmpty();
        assertThat(store.changes(M, "gone")).hasSize(1);
        assertThatThrownBy(() -> store.delete(M, "gone")).hasMessage("Unknown blueprint: gone");
        store.undo(M, "gone", commit);
        assertThat(store.list(M)).contains("gone");
    }

    @Test
    void workspaceIsPreferredAndFlaggedAsChanged() {
        store.push(M, bp("w", "0.1.0"));
        assertThat(store.info(M, "w").orElseThrow().changed()).isFalse();
        store.saveWorkspace(M, bp("w", "0.1.0", "vim"));
        BlueprintStore.Info info = store.info(M, "w").orElseThrow();
        assertThat(info.changed()).isTrue();
        assertThat(info.blueprint().packages()).hasSize(1);
        assertThat(store.committed(M, "w").orElseThrow().packages()).isEmpty();
        store.deleteWorkspace(M, "w");
        assertThat(store.info(M, "w").orElseThrow().changed()).isFalse();
        assertThatThrownBy(() -> store.deleteWorkspace(M, "w")).hasMessage("Unknown blueprint: w");
        store.saveWorkspace(M, bp("only-ws", null));
        assertThat(store.info(M, "only-ws").orElseThrow().changed()).isTrue();
        assertThat(store.list(M)).doesNotContain("only-ws");
    }

    @Test
    void tagNumbersRevisionsAndRetaggingIsANoOp() {
        store.push(M, bp("t", "0.1.0"));
        store.tag(M, "t");
        store.tag(M, "t");
        assertThat(store.changes(M, "t").get(0).revision()).isEqualTo(1);
        store.push(M, bp("t", "0.1.0"));
        assertThat(store.changes(M, "t").get(0).revision()).isNull();
        store.tag(M, "t");
        assertThat(store.changes(M, "t")).extracting(BlueprintStore.Change::revision).containsExactly(2, 1);
        assertThatThrownBy(() -> store.tag(M, "nope"))
                .hasFieldOrPropertyWithValue("kind", BlueprintException.Kind.UNKNOWN_BLUEPRINT);
    }

    @Test
    void diffListsChangesInLoraxOrder() {
        store.push(M, bp("d", "0.1.0", "tmux", "vim"));
        String first = store.changes(M, "d").get(0).commit();
        store.push(M, BlueprintParser.parseToml("""
                name = "d"
                description = "new"
                version = "0.2.0"
                [[packages]]
                name = "tmux"
                version = "3.*"
                [[packages]]
                name = "rsync"
                version = "*"
                [customizations]
                hostname = "h"
                """));
        List<Map<String, Object>> diff = BlueprintDiff.diff(store.resolve(M, "d", first), store.resolve(M, "d", "NEWEST"));
        assertThat(diff).extracting(Object::toString).containsExactly(
                "{old={Description=d}, new={Description=new}}",
                "{old={Version=0.1.0}, new={Version=0.2.0}}",
                "{old=null, new={Package={name=rsync, version=*}}}",
                "{old={Package={name=vim, version=*}}, new=null}",
                "{old={Package={name=tmux, version=*}}, new={Package={name=tmux, version=3.*}}}",
                "{old=null, new={Customizations.hostname=h}}");
        assertThat(BlueprintDiff.diff(store.resolve(M, "d", "NEWEST"), store.resolve(M, "d", "WORKSPACE"))).isEmpty();
        assertThatThrownBy(() -> store.resolve(M, "d", "0000000000000000000000000000000000000000"))
                .hasFieldOrPropertyWithValue("kind", BlueprintException.Kind.UNKNOWN_COMMIT);
    }

    @Test
    void anotherBranchStartsFromMaster() {
        store.push("dev", bp("feature", "0.1.0"));
        assertThat(store.list("dev")).contains("example-atlas", "feature");
        assertThat(store.list(M)).doesNotContain("feature");
        assertThatThrownBy(() -> store.list("../x"))
                .hasFieldOrPropertyWithValue("kind", BlueprintException.Kind.INVALID_NAME);
    }

    @Test
    void historySurvivesReopening() {
        store.push(M, bp("keep", "0.3.0"));
        store.destroy();
        store = new BlueprintStore(dir);
        assertThat(store.committed(M, "keep").orElseThrow().version()).isEqualTo("0.3.0");
        assertThat(store.list(M)).hasSize(4);
        assertThat(Files.exists(dir.resolve("git/workspace/master/keep.toml"))).isTrue();
    }
}
