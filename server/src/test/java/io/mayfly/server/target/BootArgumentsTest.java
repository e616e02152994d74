package io.mayfly.server.target;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A boot argument with {config.K} placeholders stays within its limit once they are filled. */
class BootArgumentsTest {
    @Test
    void aShortArgumentRepeatingALongValueIsRefusedBeforeItReachesAnAgent() {
        Map<String, String> vars = Map.of("A", "x".repeat(32 * 1024));
        String repeated = "{config.A}".repeat(3); // 30 characters, 96 KiB filled
        assertThat(BootArguments.tooLong(List.of("--port", repeated), vars))
                .isEqualTo(
                        "[run] args: argument 2 is 98304 characters once its {config.NAME} placeholders are filled; a boot argument"
                                + " may be at most 65536 (64 KiB): use shorter config values there, or read them from the environment");
        assertThat(BootArguments.tooLong(List.of("--port", "{config.A}{config.A}"), vars))
                .as("exactly 64 KiB")
                .isNull();
        assertThat(BootArguments.tooLong(List.of(), vars)).isNull();
    }
}
