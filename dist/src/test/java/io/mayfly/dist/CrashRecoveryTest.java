package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGKILL of the server in the middle of a deploy, then a restart: nothing lost, nothing half-written, the app served. */
class CrashRecoveryTest {
    @TempDir
    Path tmp;

    @Test
    void sigkillDuringADeployLosesNothingAndTheLiveReleaseKeepsServing() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            mayfly.cli("apps:create", "crash");
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("crash"));
            MayflyProcess.setVersion(repo, "crash-1");
            assertThat(mayfly.push(repo, "crash", "v1").exit()).isZero();

            // v2 has a staged test that takes long: the server is killed while v2's instance is booted but not switched
            // to.
            MayflyProcess.setVersion(repo, "crash-2");
            Files.writeString(
                    repo.resolve("mayfly.toml"),
                    Files.readString(repo.resolve("mayfly.toml")) + "\n[test]\ncommand = \"sleep 60\"\n");
            CompletableFuture<MayflyProcess.Result> push = CompletableFuture.supplyAsync(() -> {
                try {
                    return mayfly.push(repo, "crash", "v2");
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            awaitStagedInstance(mayfly.data, "crash-v2-", Duration.ofSeconds(60));
            mayfly.kill();
            MayflyProcess.Result pushResult = push.get();
            assertThat(pushResult.exit()).isNotZero();

            // The live instance outlives the server: traffic keeps flowing only once the router is back, so restart.
            mayfly.start();
            mayfly.awaitServing("crash", "crash-1", Duration.ofSeconds(30));

            List<Views.ReleaseView> releases = mayfly.releases("crash");
            assertThat(releases).extracting(Views.ReleaseView::version).containsExactly(2, 1);
            assertThat(releases.get(0).status()).isEqualTo("failed");
            assertThat(releases.get(0).reason()).contains("interrupted");
            assertThat(releases.get(1).status()).isEqualTo("live");

            List<Views.BuildView> builds = List.of(Json.read(
                    mayfly.api("GET", "/api/v1/apps/crash/builds", null).body(), Views.BuildView[].class));
            assertThat(builds).extracting(Views.BuildView::number).containsExactly(2, 1);
            for (Views.BuildView b : builds) {
                assertThat(b.status()).isEqualTo("succeeded");
                for (Views.ArtifactView a : b.artifacts()) {
                    Path blob = mayfly.data
                            .resolve("blobs/sha256")
                            .resolve(a.sha256().substring(0, 2))
                            .resolve(a.sha256());
                    assertThat(blob).exists();
                    assertThat(Files.size(blob)).isEqualTo(a.size());
                    assertThat(sha256(blob)).isEqualTo(a.sha256());
                }
            }
            try (var partials = Files.list(mayfly.data.resolve("blobs/tmp"))) {
                assertThat(partials.toList()).as("no half-written blob left").isEmpty();
            }
            // The instance booted for v2 was never switched to: the restarted server stops it.
            assertThat(mayfly.cli("ps", "-a", "crash").out()).doesNotContain("crash-v2-");

            // And the app still deploys normally afterwards.
            Files.writeString(
                    repo.resolve("mayfly.toml"),
                    Files.readString(repo.resolve("mayfly.toml")).replace("[test]\ncommand = \"sleep 60\"\n", ""));
            MayflyProcess.setVersion(repo, "crash-3");
            MayflyProcess.Result after = mayfly.push(repo, "crash", "v3");
            assertThat(after.exit()).as(after.out()).isZero();
            assertThat(mayfly.visit("crash", "/").body()).contains("crash-3");
        }
    }

    private static void awaitStagedInstance(Path data, String prefix, Duration bound) throws Exception {
        long deadline = System.nanoTime() + bound.toNanos();
        Path instances = data.resolve("agent/instances");
        while (System.nanoTime() < deadline) {
            if (Files.isDirectory(instances)) {
                try (var dirs = Files.list(instances)) {
                    if (dirs.anyMatch(d ->
                            d.getFileName().toString().startsWith(prefix) && Files.exists(d.resolve("state.json")))) {
                        Thread.sleep(500); // inside the staged test now
                        return;
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no staged instance " + prefix + "* appeared within " + bound);
    }

    private static String sha256(Path file) throws Exception {
        var md = java.security.MessageDigest.getInstance("SHA-256");
        return java.util.HexFormat.of().formatHex(md.digest(Files.readAllBytes(file)));
    }
}
