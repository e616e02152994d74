package io.mayfly.wire;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VersionTest {
    @Test
    void theBuildWroteItsVersion() {
        assertThat(Version.CURRENT).matches("\\d+\\.\\d+\\.\\d+.*");
    }

    @Test
    void aVersionAnotherProcessSaidIsKeptOnlyIfItLooksLikeOne() {
        assertThat(Version.said("0.1.0")).isEqualTo("0.1.0");
        assertThat(Version.said("9.9.9-upgrade+build.7")).isEqualTo("9.9.9-upgrade+build.7");
        assertThat(Version.said(null)).isEqualTo("unknown");
        assertThat(Version.said("")).isEqualTo("unknown");
        assertThat(Version.said("1.0\nWARN forged log line")).isEqualTo("unknown");
        assertThat(Version.said("<script>")).isEqualTo("unknown");
        assertThat(Version.said("../../etc")).isEqualTo("unknown");
        assertThat(Version.said("1".repeat(65))).isEqualTo("unknown");
        assertThat(Version.said("1".repeat(20_000_000))).isEqualTo("unknown");
    }
}
