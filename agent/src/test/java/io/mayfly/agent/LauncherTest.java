package io.mayfly.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The boot arguments an instance gets: the release's, with the agent's placeholders filled in at start. */
class LauncherTest {
    @Test
    void eachKnownPlaceholderIsFilledEveryTimeItAppears() {
        assertThat(Launcher.fill("--port={port} --app={app} --again={port}", Map.of("port", "8123", "app", "hello")))
                .isEqualTo("--port=8123 --app=hello --again=8123");
    }

    @Test
    void placeholdersTheAgentDoesNotFillStayAsTheyAre() {
        // A driver that fills {port} itself has it left out of the values.
        assertThat(Launcher.fill("--net={port} {release}", Map.of("release", "3")))
                .isEqualTo("--net={port} 3");
        assertThat(Launcher.fill("no braces here", Map.of("port", "1"))).isEqualTo("no braces here");
    }
}
