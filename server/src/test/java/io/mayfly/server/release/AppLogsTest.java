package io.mayfly.server.release;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AppLogsTest {
    @TempDir
    Path dir;

    @Test
    void aConsoleMirrorTakesEachChunkOnceWhenAgentsSendItAgain() throws Exception {
        AppLogs logs = new AppLogs(dir);
        assertThat(logs.mirrorConsole("app", "app-v1-abc", 0, 6, "hello\n")).isTrue();
        assertThat(logs.mirrorConsole("app", "app-v1-abc", 0, 6, "hello\n"))
                .as("the same chunk, its answer lost")
                .isFalse();
        assertThat(logs.mirrorConsole("app", "app-v1-abc", 6, 9, "héllo 2\n")).isTrue(); // 9 bytes in UTF-8
        assertThat(logs.mirrorConsole("app", "app-v1-abc", 6, 9, "héllo 2\n")).isFalse();
        assertThat(logs.mirrorConsole("app", "app-v1-def", 0, 3, "b!\n")).isTrue();

        assertThat(Files.readString(logs.consoleMirror("app", "app-v1-abc").orElseThrow()))
                .isEqualTo("hello\nhéllo 2\n");
        assertThat(Files.readString(logs.consoleMirror("app", "app-v1-def").orElseThrow()))
                .isEqualTo("b!\n");
    }
}
