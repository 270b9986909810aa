package dev.kiln.blueprint;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * osbuild-composer's rules for files, directories, repositories and certificates, as Kiln checks them when a
 * blueprint is pushed: each refusal names its field and says why.
 */
class TreeCustomizationsTest {

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static String problems(Map<String, Object> c) {
        return String.join("; ", Customizations.problems(c));
    }

    static String resource(String name) throws IOException {
        try (var in = TreeCustomizationsTest.class.getResourceAsStream("/customize/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void filesAndDirectoriesFollowThePathPolicy() {
        assertThat(problems(map("files", List.of(map("path", "/etc/motd", "data", "hi", "mode", "0600",
                "user", "root", "group", 0L)), "directories", List.of(map("path", "/root/.config", "mode", "700",
                "ensure_parents", true))))).isEmpty();
        for (String refused : List.of("/etc/fstab", "/etc/shadow", "/etc/passwd", "/etc/group")) {
            assertThat(problems(map("files", List.of(map("path", refused))))).contains("files.path", refused,
                    "may not be replaced");
        }
        for (String outside : List.of("/usr/bin/x", "/etc", "/root", "/boot/grub/grub.cfg", "etc/motd", "/etc/../x",
                "/etc/x/", "/etc//x", "/etc/a b")) {
            assertThat(problems(map("directories", List.of(map("path", outside))))).contains("directories.path");
        }
        assertThat(problems(map("files", List.of(map("path", "/etc/a"), map("path", "/etc/a")))))
                .contains("listed twice");
        assertThat(problems(map("files", List.of(map("path", "/etc/a")), "directories", List.of(map("path", "/etc/a")))))
                .contains("also listed as a directory");
        for (Object mode : List.of("4755", "0o755", 493L, "rwxr-xr-x", "07777", "")) {
            assertThat(problems(map("files", List.of(map("path", "/etc/a", "mode", mode))))).contains("files.mode");
        }
        assertThat(problems(map("directories", List.of(map("path", "/etc/a", "user", -1L, "group", "Wheel!")))))
                .contains("directories.user", "directories.group");
        assertThat(problems(map("directories", List.of(map("path", "/etc/a", "owner", "root")))))
                .contains("unknown field \"owner\"");
        assertThat(problems(map("files", List.of(map("path", "/etc/a", "data", "x".repeat((1 << 20) + 1))))))
                .contains("files.data", "1024 KiB");
    }

    @Test
    void repositoriesAreAptSourcesWithTheirKeysInline() throws Exception {
        String key = resource("repo-key.asc");
        assertThat(problems(map("repositories", List.of(map("id", "extra", "baseurls",
                List.of("https://repo.kiln.invalid/debian"), "gpgkeys", List.of(key), "priority", 500L,
                "enabled", false, "gpgcheck", true, "filename", "extra.repo"))))).isEmpty();
        assertThat(problems(map("repositories", List.of(map("id", "x"))))).contains("needs baseurls or a mirrorlist");
        assertThat(problems(map("repositories", List.of(map("id", "x", "metalink", "https://m.kiln.invalid/x")))))
                .contains("repositories.metalink", "apt has no metalinks");
        assertThat(problems(map("repositories", List.of(map("id", "x", "baseurls", List.of("https://r.kiln.invalid/"),
                "sslverify", false))))).contains("TLS");
        assertThat(problems(map("repositories", List.of(map("id", "x", "baseurls", List.of("https://r.kiln.invalid/"),
                "gpgkeys", List.of("https://r.kiln.invalid/key.asc")))))).contains("give the key itself");
        assertThat(problems(map("repositories", List.of(map("id", "x", "baseurls", List.of("https://r.kiln.invalid/"),
                "gpgkeys", List.of(key.replace("-----END", "\"; touch /tmp/x\n-----END"))))))).contains("not an ASCII-armored");
        assertThat(problems(map("repositories", List.of(map("id", "x", "baseurls", List.of("ftp://r.kiln.invalid/")),
                map("id", "x", "baseurls", List.of("https://r.kiln.invalid/a b")))))).contains("listed twice")
                .contains("repositories.baseurls");
        assertThat(problems(map("repositories", List.of(map("id", "a", "filename", "same", "baseurls",
                List.of("https://r.kiln.invalid/")), map("id", "b", "filename", "same.sources", "baseurls",
                List.of("https://r.kiln.invalid/")))))).contains("would be written to same.sources");
        assertThat(problems(map("repositories", List.of(map("id", "x", "baseurls", List.of("https://r.kiln.invalid/"),
                "suites", List.of("./"), "components", List.of("main")))))).contains("flat repository");
        assertThat(problems(map("repositories", List.of(map("id", "x", "baseurls", List.of("https://r.kiln.invalid/"),
                "module_hotfixes", true, "priority", 0L))))).contains("no modules", "repositories.priority");
    }

    @Test
    void certificatesAreParsedAndReEncoded() throws Exception {
        String pem = resource("test-ca.pem");
        assertThat(problems(map("cacerts", map("pem_certs", List.of(pem))))).isEmpty();
        assertThat(TreeCustomizations.certificates("\n" + pem + "\n")).containsExactly(pem.strip() + "\n");
        assertThat(problems(map("cacerts", map("pem_certs", List.of("-----BEGIN CERTIFICATE-----\nAAAA\n"
                + "-----END CERTIFICATE-----\n"))))).contains("cacerts.pem_certs", "not an X.509 certificate");
        // whatever follows the certificate in its entry is dropped: only the parsed certificate is ever written
        assertThat(String.join("", TreeCustomizations.certificates(pem + "%post\nrm -rf /\n%end\n")))
                .doesNotContain("%post");
        assertThat(problems(map("cacerts", map("pem", List.of(pem))))).contains("unknown field \"pem\"");
    }

    @Test
    void firewallZonesAreFirewalldsWithAddressesAsSources() {
        assertThat(problems(map("firewall", map("zones", List.of(map("name", "trusted", "sources",
                List.of("10.0.0.0/8", "fd00::/8", "52:54:00:12:34:56", "192.0.2.1"))))))).isEmpty();
        assertThat(problems(map("firewall", map("zones", List.of(map("name", "mine", "sources", List.of())))))).contains(
                "firewall.zones.name");
        assertThat(problems(map("firewall", map("zones", List.of(map("name", "drop", "sources",
                List.of("10.0.0.0/33", "ipset:bad", "host.example"))))))).contains("firewall.zones.sources");
    }
}
