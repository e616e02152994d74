package io.mayfly.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The instance directories an agent keeps: those of running instances, and the newest stopped ones' console logs. */
class InstanceDirsTest {
    @TempDir
    Path instances;

    private Path instance(String id, long writtenAt, boolean running) throws Exception {
        Path dir = Files.createDirectories(instances.resolve(id));
        Path console = Files.writeString(dir.resolve("console.log"), id + " said something\n");
        Files.setLastModifiedTime(console, FileTime.fromMillis(writtenAt));
        if (running) Files.writeString(dir.resolve("state.json"), "{}");
        return dir;
    }

    @Test
    void onlyTheNewestStoppedInstancesOfTheAppKeepTheirDirectories() throws Exception {
        Path running = instance("hello-v1-aaaaaa", 1_000, true);
        Path oldest = instance("hello-v2-bbbbbb", 2_000, false);
        Path older = instance("hello-v3-cccccc", 3_000, false);
        Path newer = instance("hello-v4-dddddd", 4_000, false);
        Path newest = instance("hello-v5-eeeeee", 5_000, false);
        Path starting = Files.createDirectories(instances.resolve("hello-v6-ffffff")); // no state file yet, but live
        Path otherApp = instance("hello-v2-v1-abcdef", 0, false); // the app "hello-v2", not "hello"

        assertThat(InstanceDirs.pruneStopped(instances, "hello", 2, Set.of("hello-v6-ffffff")))
                .isEqualTo(2);

        assertThat(running).exists();
        assertThat(starting).exists();
        assertThat(newest).exists();
        assertThat(newer).exists();
        assertThat(older).doesNotExist();
        assertThat(oldest).doesNotExist();
        assertThat(otherApp).as("another app's instance").exists();
        assertThat(InstanceDirs.pruneStopped(instances, "hello", 2, Set.of("hello-v6-ffffff")))
                .as("nothing more to prune")
                .isZero();
    }

    @Test
    void removingAnAppRemovesItsStoppedInstancesDirectoriesSoAnAppMadeAgainUnderItsNameStartsClean() throws Exception {
        Path stopped = instance("hello-v1-aaaaaa", 1_000, false);
        Path other = instance("other-v1-bbbbbb", 1_000, false);
        Path agentDir = instances.resolve("agent");
        try (Agent agent =
                new Agent(agentDir, new io.mayfly.agent.router.Router("localhost", 1), java.util.List.of())) {
            Path dir = agentDir.resolve("instances");
            Files.move(stopped, dir.resolve("hello-v1-aaaaaa"));
            Files.move(other, dir.resolve("other-v1-bbbbbb"));
            agent.removeApp("hello");
            assertThat(dir.resolve("hello-v1-aaaaaa")).doesNotExist();
            assertThat(dir.resolve("other-v1-bbbbbb")).exists();
            assertThat(agent.consoleLogs("hello")).isEmpty();
        }
    }

    @Test
    void anAppsInstancesAreThoseNamedAppVersionHex() {
        assertThat(InstanceDirs.ofApp(Path.of("hello-v12-0a1b2c"), "hello")).isTrue();
        assertThat(InstanceDirs.ofApp(Path.of("hello-v2-v1-0a1b2c"), "hello")).isFalse();
        assertThat(InstanceDirs.ofApp(Path.of("hello-v2-v1-0a1b2c"), "hello-v2"))
                .isTrue();
        assertThat(InstanceDirs.ofApp(Path.of("hello-world-v1-0a1b2c"), "hello"))
                .isFalse();
    }
}
