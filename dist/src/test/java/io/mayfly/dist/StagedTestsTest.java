package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manifest's {@code [test]}: the agent boots the new release and asks the server, over the agent protocol, to
 * run the test against the new instance; traffic moves only if it passes. The default server's embedded agent
 * takes the same HTTP path as a remote one, so this runs on it.
 */
class StagedTestsTest {
    @TempDir
    Path tmp;

    /** A test command that fetches the staged instance's page and looks for {@code text} in it. */
    private static void testLookingFor(Path repo, String text) throws Exception {
        String manifest = Files.readString(repo.resolve("mayfly.toml")).replaceAll("(?s)\n\\[test\\].*", "");
        Files.writeString(
                repo.resolve("mayfly.toml"),
                manifest + "\n[test]\ncommand = \"curl -fsS $MAYFLY_TEST_URL/ | tee page && grep -q " + text
                        + " page\"\ntimeout = \"30s\"\n");
    }

    @Test
    void aPassingTestLetsTheReleaseGoLiveAndAFailingOneLeavesTheOldServing() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("server")).start()) {
            assertThat(mayfly.cli("apps:create", "tested").exit()).isZero();
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("tested"));
            MayflyProcess.setVersion(repo, "tested-1");
            assertThat(mayfly.push(repo, "tested", "v1").exit()).isZero();

            MayflyProcess.setVersion(repo, "tested-2");
            testLookingFor(repo, "tested-2");
            MayflyProcess.Result passed = mayfly.push(repo, "tested", "v2 with a test");
            assertThat(passed.exit()).as(passed.out()).isZero();
            assertThat(passed.out())
                    .contains("Testing the staged instance", "tested-2", "switched traffic to tested-v2-", "test");
            assertThat(mayfly.visit("tested", "/").body()).contains("tested-2");

            // The page of v3 is not what its test looks for: v3 never gets traffic, its instance is stopped.
            MayflyProcess.setVersion(repo, "tested-3");
            testLookingFor(repo, "something-else");
            MayflyProcess.Result failed = mayfly.push(repo, "tested", "v3 failing its test");
            assertThat(failed.exit()).as(failed.out()).isNotZero();
            assertThat(failed.out())
                    .contains("Testing the staged instance", "test failed", "v2 is still serving")
                    .doesNotContain("switched traffic to tested-v3-");
            assertThat(mayfly.visit("tested", "/").body()).contains("tested-2");
            assertThat(mayfly.releases("tested").getFirst().status()).isEqualTo("failed");
            assertThat(Eventually.until(
                            java.time.Duration.ofSeconds(10),
                            () -> mayfly.cli("ps", "-a", "tested").out(),
                            out -> !out.contains("tested-v3-"),
                            "the instance of v3 stopped"))
                    .contains("tested-v2-");
        }
    }
}
