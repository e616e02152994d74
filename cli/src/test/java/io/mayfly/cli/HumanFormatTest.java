package io.mayfly.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class HumanFormatTest {
    static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");

    @Test
    void sizesUseBinaryUnits() {
        assertThat(HumanFormat.size(512)).isEqualTo("512 B");
        assertThat(HumanFormat.size(729_088)).isEqualTo("712 KiB");
        assertThat(HumanFormat.size(3_565_158)).isEqualTo("3.4 MiB");
        assertThat(HumanFormat.size(22_020_096)).isEqualTo("21 MiB");
        assertThat(HumanFormat.size(1_288_490_189L)).isEqualTo("1.2 GiB");
    }

    @Test
    void timesReadRelativeToNow() {
        assertThat(HumanFormat.ago(NOW.minusSeconds(2), NOW)).isEqualTo("just now");
        assertThat(HumanFormat.ago(NOW.minusSeconds(45), NOW)).isEqualTo("45 s ago");
        assertThat(HumanFormat.ago(NOW.minusSeconds(200), NOW)).isEqualTo("3 min ago");
        assertThat(HumanFormat.ago(NOW.minusSeconds(5 * 3600), NOW)).isEqualTo("5 h ago");
        assertThat(HumanFormat.ago(NOW.minusSeconds(3 * 86400), NOW)).isEqualTo("3 days ago");
        assertThat(HumanFormat.ago(Instant.parse("2026-01-05T10:00:00Z"), NOW)).isEqualTo("2026-01-05");
        assertThat(HumanFormat.ago(null, NOW)).isEqualTo("-");
    }

    @Test
    void durationsPickTheirUnit() {
        assertThat(HumanFormat.duration(Duration.ofMillis(850))).isEqualTo("850 ms");
        assertThat(HumanFormat.duration(Duration.ofMillis(12_345))).isEqualTo("12.3 s");
        assertThat(HumanFormat.duration(Duration.ofSeconds(125))).isEqualTo("2m 05s");
        assertThat(HumanFormat.duration(Duration.ofMinutes(62))).isEqualTo("1h 02m");
    }

    @Test
    void tablesAlignColumnsAndShowMissingValuesAsDashes() {
        assertThat(HumanFormat.table(List.of("A", "LONGER", "C"), List.of(List.of("wide-cell", "", "x"))))
                .isEqualTo("A          LONGER  C\nwide-cell  -       x\n");
    }

    @Test
    void hashesAndCommitsAreShortened() {
        assertThat(HumanFormat.sha12("sha256:0123456789abcdef")).isEqualTo("0123456789ab");
        assertThat(HumanFormat.sha12("0123456789abcdef")).isEqualTo("0123456789ab");
        assertThat(HumanFormat.commit("9f8e7d6c5b4a")).isEqualTo("9f8e7d6");
    }
}
