package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** builds:rebuild builds a recorded build again and reports whether every artifact came out the same. */
class ReproducibilityTest {
    @TempDir
    Path tmp;

    @Test
    void examplesHelloRebuildsReproduciblyAndATimestampedBuildDoesNot() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            mayfly.cli("apps:create", "repro");
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("repro"));
            assertThat(mayfly.push(repo, "repro", "v1").exit()).isZero();

            MayflyProcess.Result same = mayfly.cli("builds:rebuild", "-a", "repro", "1");
            assertThat(same.exit()).as(same.out()).isZero();
            assertThat(same.out()).contains("reproducible: build #1 and rebuild #2 have identical artifacts");
            assertThat(mayfly.api("GET", "/job/repro/build/1", null).body()).contains("eproducible");
            assertThat(mayfly.api("GET", "/api/v1/apps/repro/builds/1", null).body())
                    .contains("\"reproducible\":true");

            // A build that stamps the time into its image cannot be reproduced, and the rebuild says which file
            // differs.
            Files.writeString(
                    repo.resolve("mayfly.toml"),
                    Files.readString(repo.resolve("mayfly.toml"))
                            .replace("command = \"make\"", "command = \"make && date +%s%N >> hello\""));
            MayflyProcess.setVersion(repo, "stamped");
            assertThat(mayfly.push(repo, "repro", "stamped").exit()).isZero();
            MayflyProcess.Result differs = mayfly.cli("builds:rebuild", "-a", "repro", "3");
            assertThat(differs.exit()).isEqualTo(1);
            assertThat(differs.out()).contains("not reproducible: build #3 and rebuild #4 differ", "hello: sha256:");
            assertThat(mayfly.api("GET", "/api/v1/apps/repro/builds/3", null).body())
                    .contains("\"reproducible\":false");
            assertThat(mayfly.cli("builds:rebuild", "-a", "repro", "99").out()).contains("no build #99");
        }
    }
}
