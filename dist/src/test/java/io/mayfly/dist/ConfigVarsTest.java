package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config vars as on Heroku: each change is a release, the value reaches the app, and it is stored only encrypted. */
class ConfigVarsTest {
    @TempDir
    Path tmp;

    @Test
    void configChangesAreReleasesThatReachTheAppAndAreNeverWrittenInTheClear() throws Exception {
        String secret = "greeting-" + Long.toHexString(System.nanoTime()) + "-never-in-logs";
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            mayfly.cli("apps:create", "conf");
            MayflyProcess.Result early = mayfly.cli("config:set", "-a", "conf", "GREETING=first greeting");
            assertThat(early.exit()).as(early.out()).isZero();
            assertThat(early.out()).contains("no release yet");

            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("conf"));
            assertThat(mayfly.push(repo, "conf", "v1").exit()).isZero();
            assertThat(mayfly.visit("conf", "/").body()).contains("first greeting");

            MayflyProcess.Result set = mayfly.cli("config:set", "-a", "conf", "GREETING=" + secret);
            assertThat(set.exit()).as(set.out()).isZero();
            assertThat(set.out()).contains("live as v2");
            assertThat(mayfly.visit("conf", "/").body()).contains(secret);
            assertThat(mayfly.releases("conf").get(0).description()).isEqualTo("Set GREETING");
            assertThat(mayfly.cli("config", "-a", "conf").out())
                    .contains("GREETING:")
                    .contains(secret);
            assertThat(mayfly.cli("config:get", "-a", "conf", "GREETING").out().trim())
                    .isEqualTo(secret);

            // A push of the same code keeps the config; nothing changed, so nothing is redeployed.
            MayflyProcess.Result again = mayfly.push(repo, "conf", "same code");
            assertThat(again.out()).contains("No change");

            // Rolling back to v1 brings v1's config back.
            assertThat(mayfly.cli("rollback", "-a", "conf", "v1").exit()).isZero();
            assertThat(mayfly.visit("conf", "/").body()).contains("first greeting");
            assertThat(mayfly.cli("config:get", "-a", "conf", "GREETING").out().trim())
                    .isEqualTo("first greeting");

            MayflyProcess.Result unset = mayfly.cli("config:unset", "-a", "conf", "GREETING");
            assertThat(unset.exit()).as(unset.out()).isZero();
            assertThat(mayfly.visit("conf", "/").body()).contains("Served by a static C server");

            MayflyProcess.Result bad = mayfly.cli("config:set", "-a", "conf", "1BAD=x");
            assertThat(bad.exit()).isEqualTo(1);
            assertThat(bad.out()).contains("not a valid config var name");

            mayfly.stop();
            assertThat(filesContaining(mayfly.data, secret))
                    .as("files holding the secret in the clear")
                    .isEmpty();
            assertThat(mayfly.serverLog()).doesNotContain(secret);
        }
    }

    private static java.util.List<Path> filesContaining(Path dir, String text) throws Exception {
        byte[] needle = text.getBytes(StandardCharsets.UTF_8);
        try (var files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> {
                        try {
                            return indexOf(Files.readAllBytes(f), needle) >= 0;
                        } catch (Exception e) {
                            return false;
                        }
                    })
                    .toList();
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}
