package dev.kiln.depsolve;

import dev.kiln.debian.DebVersion;
import dev.kiln.debian.PackagesParser;
import dev.kiln.debian.Pkg;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class DepsolverTest {

    static PackageIndex index(String packages) throws IOException {
        List<Pkg> all = new ArrayList<>();
        PackagesParser.parse(new ByteArrayInputStream(packages.getBytes(StandardCharsets.UTF_8)), "test",
                "http://repo/", null, all::add);
        return new PackageIndex(all, "amd64");
    }

    static String pkg(String name, String version, String... fields) {
        StringBuilder s = new StringBuilder("Package: " + name + "\nVersion: " + version + "\nArchitecture: amd64\n");
        for (String f : fields) {
            s.append(f).append('\n');
        }
        return s.append("Filename: pool/").append(name).append('_').append(version).append("_amd64.deb\nSize: 100\n")
                .append("SHA256: ").append("0".repeat(64)).append("\nDescription: the ").append(name)
                .append(" package\n long text\n .\n more\n\n").toString();
    }

    static List<String> solve(PackageIndex index, String... names) throws DepsolveException {
        return new Depsolver(index).solve(Arrays.stream(names).map(n -> {
            String[] nv = n.split("=");
            return new Depsolver.Request(nv[0], nv.length > 1 ? nv[1] : null);
        }).toList(), false).stream().map(p -> p.name + "=" + p.version).toList();
    }

    @Test
    void debianVersionOrder() {
        List<String> sorted = new ArrayList<>(List.of("1.0", "1.0~rc1", "1:0.9", "1.0-1", "1.0+b1", "1.0a", "0.9",
                "1.0-1~deb12u1", "1.0.1", "2:0"));
        sorted.sort(DebVersion.ORDER);
        assertThat(sorted).containsExactly("0.9", "1.0~rc1", "1.0", "1.0-1~deb12u1", "1.0-1", "1.0a", "1.0+b1",
                "1.0.1", "1:0.9", "2:0");
        assertThat(DebVersion.compare("1.2.3-0", "1.2.3")).isZero();
        assertThat(DebVersion.parse("1:2.4-5:6-1~x")).isEqualTo(new DebVersion(1, "2.4-5:6", "1~x"));
    }

    @Test
    void newestVersionAndDependenciesInOrder() throws Exception {
        PackageIndex idx = index(pkg("app", "1.0", "Depends: libc (>= 2), tool")
                + pkg("app", "2.0", "Depends: libc (>= 3)") + pkg("libc", "2.5") + pkg("libc", "3.1")
                + pkg("tool", "1"));
        assertThat(solve(idx, "app")).containsExactly("app=2.0", "libc=3.1");
        assertThat(solve(idx, "app=1.*")).containsExactly("app=1.0", "libc=3.1", "tool=1");
        assertThat(solve(idx, "libc=2.*", "app=1.0")).containsExactly("app=1.0", "libc=2.5", "tool=1");
    }

    @Test
    void firstInstallableAlternativeWinsUnlessOneIsAlreadyThere() throws Exception {
        PackageIndex idx = index(pkg("web", "1", "Depends: mta-a | mta-b") + pkg("mta-a", "1") + pkg("mta-b", "1"));
        assertThat(solve(idx, "web")).containsExactly("mta-a=1", "web=1");
        assertThat(solve(idx, "mta-b", "web")).containsExactly("mta-b=1", "web=1");
    }

    @Test
    void virtualPackagesAndVersionedProvides() throws Exception {
        PackageIndex idx = index(pkg("client", "1", "Depends: awk")
                + pkg("mawk", "1.3", "Provides: awk", "Priority: required")
                + pkg("gawk", "5", "Provides: awk", "Priority: optional")
                + pkg("needs-new", "1", "Depends: libfoo-api (>= 2)")
                + pkg("libfoo1", "1", "Provides: libfoo-api (= 1)")
                + pkg("libfoo2", "2", "Provides: libfoo-api (= 2.1)")
                + pkg("needs-unversioned", "1", "Depends: virt (>= 1)") + pkg("prov", "1", "Provides: virt"));
        assertThat(solve(idx, "client")).containsExactly("client=1", "mawk=1.3");
        assertThat(solve(idx, "needs-new")).containsExactly("libfoo2=2", "needs-new=1");
        assertThatThrownBy(() -> solve(idx, "needs-unversioned"))
                .hasMessageContaining("needs-unversioned 1 (amd64) depends on virt (>= 1)");
        assertThat(solve(idx, "awk")).containsExactly("mawk=1.3");
    }

    @Test
    void conflictsAndBreaksForceAnotherChoice() throws Exception {
        PackageIndex idx = index(pkg("server", "1", "Depends: db-a | db-b") + pkg("db-a", "1", "Conflicts: tool")
                + pkg("db-b", "1") + pkg("tool", "1") + pkg("other", "1", "Depends: lib-a | lib-b")
                + pkg("lib-a", "1") + pkg("lib-b", "1") + pkg("breaker", "1", "Breaks: lib-a (<< 2)"));
        assertThat(solve(idx, "tool", "server")).containsExactly("db-b=1", "server=1", "tool=1");
        assertThat(solve(idx, "breaker", "other")).containsExactly("breaker=1", "lib-b=1", "other=1");
    }

    @Test
    void whenTheGreedyWalkIsStuckTheSatSolverFindsTheWay() throws Exception {
        PackageIndex idx = index(pkg("a", "1", "Depends: b | c") + pkg("b", "1", "Depends: d") + pkg("c", "1")
                + pkg("d", "1", "Conflicts: e") + pkg("e", "1"));
        assertThat(solve(idx, "a", "e")).containsExactly("a=1", "c=1", "e=1");
    }

    @Test
    void preDependsCount() throws Exception {
        PackageIndex idx = index(pkg("p", "1", "Pre-Depends: dpkg (>= 1.15)") + pkg("dpkg", "1.21"));
        assertThat(solve(idx, "p")).containsExactly("dpkg=1.21", "p=1");
    }

    @Test
    void multiArchAnyNeedsAllowedOrForeign() throws Exception {
        PackageIndex idx = index(pkg("tool", "1", "Depends: python3:any, perl:any")
                + pkg("python3", "3.11", "Multi-Arch: allowed") + pkg("perl", "5.36"));
        assertThatThrownBy(() -> solve(idx, "tool")).hasMessageContaining("perl:any");
    }

    @Test
    void unsatisfiableRequestsNameTheCulprit() throws Exception {
        PackageIndex idx = index(pkg("a", "1", "Depends: b (>= 2)") + pkg("b", "1") + pkg("c", "1", "Conflicts: d")
                + pkg("d", "1"));
        assertThatThrownBy(() -> solve(idx, "a")).isInstanceOf(DepsolveException.class)
                .hasMessageContaining("a 1 (amd64) depends on b (>= 2)").hasMessageContaining("have 1");
        assertThatThrownBy(() -> solve(idx, "c", "d")).hasMessageContaining("conflicts with d");
        assertThatThrownBy(() -> solve(idx, "nosuch")).hasMessage("No package named nosuch");
        assertThatThrownBy(() -> solve(idx, "b=3.*")).hasMessage("No version of b matches 3.* (available: 1)");
    }

    @Test
    void theBaseIsEssentialAndRequired() throws Exception {
        PackageIndex idx = index(pkg("bash", "5", "Essential: yes") + pkg("libc6", "2.36", "Priority: required")
                + pkg("vim", "9", "Priority: optional"));
        List<Pkg> set = new Depsolver(idx).solve(List.of(), true);
        assertThat(set).extracting(p -> p.name).containsExactly("bash", "libc6");
        assertThat(set.get(0).url()).isEqualTo("http://repo/pool/bash_5_amd64.deb");
        assertThat(set.get(0).summary).isEqualTo("the bash package");
    }

    @Test
    void theBaseIsMergedUsrWithoutTheConversionTool() throws Exception {
        String repo = pkg("init-system-helpers", "1.65", "Essential: yes", "Depends: usrmerge | usr-is-merged")
                + pkg("usrmerge", "37", "Priority: optional", "Depends: perl") + pkg("perl", "5.36")
                + pkg("usr-is-merged", "37", "Priority: optional");
        assertThat(new Depsolver(index(repo)).solve(List.of(), true)).extracting(p -> p.name)
                .containsExactly("init-system-helpers", "usr-is-merged");
        // asked for by name, the conversion tool is still there; without usr-is-merged, apt's first choice stands
        assertThat(new Depsolver(index(repo)).solve(List.of(new Depsolver.Request("usrmerge", null)), true))
                .extracting(p -> p.name).containsExactly("init-system-helpers", "perl", "usr-is-merged", "usrmerge");
        String older = pkg("init-system-helpers", "1.65", "Essential: yes", "Depends: usrmerge | usr-is-merged")
                + pkg("usrmerge", "37", "Depends: perl") + pkg("perl", "5.36");
        assertThat(new Depsolver(index(older)).solve(List.of(), true)).extracting(p -> p.name)
                .containsExactly("init-system-helpers", "perl", "usrmerge");
    }
}
