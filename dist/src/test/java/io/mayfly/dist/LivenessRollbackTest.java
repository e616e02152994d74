package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.Views;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The health gate end to end, through git push and the real router: an app that exits at once never goes live and
 * the push quotes what it printed; one that passes its check and dies seconds later is rolled back by itself, with no
 * failed request in a load loop, the server making the previous release live again and saying so.
 */
class LivenessRollbackTest {
    /** testserver.c, the agent tests' stand-in guest, pushed as an app: its flags choose how it behaves. */
    private static final Path GUEST =
            MayflyProcess.ROOT.resolve("agent/src/test/resources/io/mayfly/agent/driver/process/testserver.c");

    @TempDir
    Path tmp;

    @Test
    void aReleaseThatDiesAfterGoingLiveIsRolledBackWithNoFailedRequest() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            mayfly.cli("apps:create", "phoenix");
            Path repo = app(tmp.resolve("phoenix"), "\"--name\", \"v1\"");
            MayflyProcess.Result v1 = mayfly.push(repo, "phoenix", "v1");
            assertThat(v1.exit()).as(v1.out()).isZero();
            assertThat(mayfly.visit("phoenix", "/").body()).isEqualTo("hello from v1\n");

            // Crashes at once: never live, and the push says what the app printed.
            write(repo, "\"--exit-code\", \"3\", \"--exit-after-ms\", \"0\"");
            MayflyProcess.Result crash = mayfly.push(repo, "phoenix", "crash");
            assertThat(crash.exit()).isNotZero();
            assertThat(crash.out())
                    .contains(
                            "exited with code 3",
                            "before it was healthy",
                            "its last lines:",
                            "exiting with 3",
                            "v1 is still serving");

            LoadLoop load = LoadLoop.start(mayfly, "phoenix", 1);
            // Passes its check, then dies 6 s later: live at first, then rolled back by itself.
            write(repo, "\"--name\", \"v3\", \"--die-after-ms\", \"6000\"");
            MayflyProcess.Result dies = mayfly.push(repo, "phoenix", "dies");
            assertThat(dies.exit()).as(dies.out()).isZero();
            assertThat(dies.out()).contains("Live at", "v1 stands by for 30");
            assertThat(mayfly.cli("ps", "-a", "phoenix").out())
                    .contains("standing by until", "serving, on watch until");
            Views.ReleaseView failed = Eventually.until(
                    Duration.ofSeconds(30),
                    () -> mayfly.releases("phoenix").stream()
                            .filter(r -> r.version() == 3)
                            .findFirst()
                            .orElseThrow(),
                    r -> r.status().equals("failed"),
                    "v3 rolled back");
            Thread.sleep(500); // requests go on after the switch back
            load.close();
            assertThat(failed.reason())
                    .contains("rolled back", "after going live", "exited with code 1", "dying after");
            assertThat(mayfly.releases("phoenix")).anySatisfy(r -> {
                assertThat(r.version()).isEqualTo(1);
                assertThat(r.status()).isEqualTo("live");
            });
            assertThat(load.failures())
                    .as("failed requests out of " + load.requests())
                    .isEmpty();
            assertThat(mayfly.visit("phoenix", "/").body()).isEqualTo("hello from v1\n");
            assertThat(mayfly.cli("logs", "-a", "phoenix", "-n", "300").out())
                    .contains("v3 failed", "traffic is back on v1", "v1 is the live release again");
        }
    }

    /** A git work tree that builds testserver.c as the app, with these extra arguments. */
    private static Path app(Path dir, String args) throws Exception {
        Files.createDirectories(dir);
        Files.copy(GUEST, dir.resolve("server.c"));
        Files.writeString(dir.resolve("Makefile"), "server: server.c\n\tgcc -O2 -static -o server server.c\n");
        write(dir, args);
        MayflyProcess.git(dir, "init", "-q");
        return dir;
    }

    private static void write(Path dir, String args) throws Exception {
        Files.writeString(dir.resolve("mayfly.toml"), """
                [build]
                command = "make"
                artifact = "server"

                [run]
                args = ["--port", "{port}", %s]

                [health]
                path = "/"
                timeout = "10s"
                """.formatted(args));
    }
}
