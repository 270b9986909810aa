package dev.kiln.image.tree;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Debian's licence names as SPDX expressions, or none. */
class CopyrightsTest {

    @Test
    void licencesWithoutAnSpdxIdAreNotAsserted() {
        assertThat(Copyrights.spdx("GPL-2+")).isEqualTo("GPL-2.0-or-later");
        assertThat(Copyrights.spdx("LGPL-2.1+ or GPL-3")).isEqualTo("LGPL-2.1-or-later OR GPL-3.0-only");
        assertThat(Copyrights.spdx("Expat")).isEqualTo("MIT");
        assertThat(Copyrights.spdx("public-domain")).isNull();
        assertThat(Copyrights.spdx("GPL-2+ with OpenSSL exception")).isNull();
        assertThat(Copyrights.spdx("or")).isNull();
        assertThat(Copyrights.spdx("GPL-2 GPL-3")).isNull();
    }

}
