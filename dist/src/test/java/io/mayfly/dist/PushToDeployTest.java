package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.Views;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spine, end to end: git push -> sandboxed build -> stored artifact -> health-gated switch -> releases and rollback. */
class PushToDeployTest {
    @TempDir
    static Path tmp;

    static MayflyProcess mayfly;

    @BeforeAll
    static void startServer() throws Exception {
        mayfly = new MayflyProcess(tmp.resolve("data")).start();
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (mayfly != null) mayfly.close();
    }

    @Test
    void pushServesTheNewVersionThenRollbackServesTheOldOneWithoutRebuilding() throws Exception {
        assertThat(mayfly.cli("apps:create", "hello").out()).contains("/git/hello.git");
        Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("hello"));
        MayflyProcess.setVersion(repo, "first-1");

        MayflyProcess.Result push = mayfly.push(repo, "hello", "first");
        assertThat(push.exit()).as(push.out()).isZero();
        assertThat(push.out())
                .contains(
                        "remote: -----> Build #1 (make)",
                        "remote: -----> Stored hello sha256:",
                        "remote: -----> Live at http://hello.localhost:" + mayfly.routerPort);
        assertThat(mayfly.visit("hello", "/").body()).contains("first-1");

        MayflyProcess.setVersion(repo, "second-2");
        MayflyProcess.Result second = mayfly.push(repo, "hello", "second");
        assertThat(second.exit()).as(second.out()).isZero();
        assertThat(mayfly.visit("hello", "/").body()).contains("second-2");

        MayflyProcess.Result rollback = mayfly.cli("rollback", "-a", "hello");
        assertThat(rollback.exit()).as(rollback.out()).isZero();
        assertThat(rollback.out()).contains("v3").contains("rollback -a hello v2");
        assertThat(mayfly.visit("hello", "/").body()).contains("first-1");

        List<Views.ReleaseView> releases = mayfly.releases("hello");
        assertThat(releases).extracting(Views.ReleaseView::version).containsExactly(3, 2, 1);
        assertThat(releases).extracting(Views.ReleaseView::status).containsExactly("live", "superseded", "superseded");
        assertThat(releases.get(0).build())
                .as("rollback reuses build #1, no rebuild")
                .isEqualTo(1);
        assertThat(releases.get(0).sha256()).isEqualTo(releases.get(2).sha256());
        assertThat(releases.get(1).phases())
                .containsKeys("boot", "health", "switch"); // v1 then stood by: no drain phase

        assertThat(mayfly.cli("releases", "-a", "hello").out()).contains("v3", "v2", "v1");
        assertThat(mayfly.cli("releases", "-a", "hello", "--json").out()).contains("\"version\"");
        MayflyProcess.Result ps = mayfly.cli("ps", "-a", "hello");
        assertThat(ps.out()).contains("hello-v3-").contains("serving");
        MayflyProcess.Result logs = mayfly.cli("logs", "-a", "hello");
        assertThat(logs.out()).contains("release v3 is live").contains("listening");
        assertThat(mayfly.cli("apps").out()).contains("hello");
    }

    @Test
    void pushOfAnUnchangedBuildDoesNotRedeploy() throws Exception {
        mayfly.cli("apps:create", "same");
        Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("same"));
        MayflyProcess.setVersion(repo, "same-1");
        assertThat(mayfly.push(repo, "same", "one").exit()).isZero();
        Files.writeString(repo.resolve("NOTES.txt"), "a change that does not touch the binary\n");
        MayflyProcess.Result again = mayfly.push(repo, "same", "notes only");
        assertThat(again.exit()).as(again.out()).isZero();
        assertThat(again.out()).contains("No change").contains("already live as v1");
        assertThat(mayfly.releases("same")).hasSize(1);
    }

    @Test
    void failingHealthCheckRejectsThePushAndTheOldVersionKeepsServing() throws Exception {
        mayfly.cli("apps:create", "sick");
        Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("sick"));
        MayflyProcess.setVersion(repo, "healthy-1");
        assertThat(mayfly.push(repo, "sick", "healthy").exit()).isZero();

        Files.copy(
                MayflyProcess.ROOT.resolve("examples/hello-unhealthy/mayfly.toml"),
                repo.resolve("mayfly.toml"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        MayflyProcess.Result push = mayfly.push(repo, "sick", "unhealthy");
        assertThat(push.exit()).as(push.out()).isNotZero();
        assertThat(push.out()).contains("health check failed").contains("v1 is still serving");
        assertThat(mayfly.visit("sick", "/").body()).contains("healthy-1");
        List<Views.ReleaseView> releases = mayfly.releases("sick");
        assertThat(releases.get(0).status()).isEqualTo("failed");
        assertThat(releases.get(0).reason()).contains("health check failed");
        assertThat(releases.get(1).status()).isEqualTo("live");
        assertThat(mayfly.cli("ps", "-a", "sick").out()).doesNotContain("sick-v2-");
    }

    @Test
    void failingBuildRejectsThePushWithTheBuildOutput() throws Exception {
        mayfly.cli("apps:create", "broken");
        Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("broken"));
        Files.writeString(repo.resolve("hello.c"), "this is not C\n");
        MayflyProcess.Result push = mayfly.push(repo, "broken", "broken");
        assertThat(push.exit()).isNotZero();
        assertThat(push.out()).contains("remote:").contains("error").contains("build #1 failed");
        HttpResponse<String> page = mayfly.visit("broken", "/");
        assertThat(page.statusCode()).isEqualTo(503);
    }

    @Test
    void unknownAppsGet404AndPushesNeedAValidToken() throws Exception {
        assertThat(mayfly.visit("nosuchapp", "/").statusCode()).isEqualTo(404);
        mayfly.cli("apps:create", "guarded");
        Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("guarded"));
        MayflyProcess.git(repo, "add", "-A");
        MayflyProcess.git(repo, "commit", "-qm", "x");
        String badUrl = "http://mayfly:not-a-token@127.0.0.1:" + mayfly.apiPort + "/git/guarded.git";
        MayflyProcess.Result push =
                MayflyProcess.run(repo, java.util.Map.of(), List.of("git", "push", badUrl, "HEAD:main"));
        assertThat(push.exit()).isNotZero();
        assertThat(push.out()).containsAnyOf("401", "Authentication failed", "not known");
        assertThat(mayfly.releases("guarded")).isEmpty();
    }

    @Test
    void twoPushesAtOnceLeaveTheBranchTheLiveReleaseAndEachPushersAnswerInAgreement() throws Exception {
        mayfly.cli("apps:create", "race");
        Path base = MayflyProcess.checkoutExample("hello", tmp.resolve("race"));
        // A build that takes a while, so the second push arrives while the first one builds.
        Files.writeString(
                base.resolve("mayfly.toml"),
                Files.readString(base.resolve("mayfly.toml"))
                        .replace("command = \"make\"", "command = \"sleep 2; make\""));
        MayflyProcess.setVersion(base, "race-0");
        assertThat(mayfly.push(base, "race", "base").exit()).isZero();
        List<Path> pushers = List.of(tmp.resolve("race-a"), tmp.resolve("race-b"));
        for (Path pusher : pushers) {
            MayflyProcess.run(
                    tmp, java.util.Map.of(), List.of("git", "clone", "-q", mayfly.gitUrl("race"), pusher.toString()));
            MayflyProcess.setVersion(pusher, pusher.getFileName().toString());
            MayflyProcess.git(pusher, "commit", "-qam", pusher.getFileName().toString());
        }

        List<Process> started = new java.util.ArrayList<>();
        for (Path pusher : pushers) {
            started.add(new ProcessBuilder("git", "push", mayfly.gitUrl("race"), "HEAD:main")
                    .directory(pusher.toFile())
                    .redirectErrorStream(true)
                    .start());
        }
        java.util.Map<Path, MayflyProcess.Result> outcomes = new java.util.LinkedHashMap<>();
        for (int i = 0; i < pushers.size(); i++) {
            String out =
                    new String(started.get(i).getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            outcomes.put(pushers.get(i), new MayflyProcess.Result(started.get(i).waitFor(), out));
        }

        List<Path> succeeded = outcomes.keySet().stream()
                .filter(p -> outcomes.get(p).exit() == 0)
                .toList();
        assertThat(succeeded).as("exactly one push succeeds: " + outcomes).hasSize(1);
        Path winner = succeeded.get(0);
        Path loser = pushers.stream().filter(p -> !p.equals(winner)).findFirst().orElseThrow();
        String winnerCommit =
                MayflyProcess.git(winner, "rev-parse", "HEAD").out().trim();
        assertThat(outcomes.get(winner).out()).contains("Live at");
        assertThat(outcomes.get(loser).out())
                .as("what the other pusher is told")
                .contains(
                        "main of race moved to " + winnerCommit.substring(0, 7),
                        "fetch, merge or rebase onto it, and push again")
                .doesNotContain("Live at");

        MayflyProcess.Result main = MayflyProcess.run(
                tmp, java.util.Map.of(), List.of("git", "ls-remote", mayfly.gitUrl("race"), "refs/heads/main"));
        assertThat(main.out()).startsWith(winnerCommit);
        Views.ReleaseView live = mayfly.releases("race").stream()
                .filter(r -> r.status().equals("live"))
                .findFirst()
                .orElseThrow();
        String liveCommit = io.mayfly.wire.Json.MAPPER
                .readTree(mayfly.api("GET", "/api/v1/apps/race/builds/" + live.build(), null)
                        .body())
                .path("commit")
                .asText();
        assertThat(liveCommit).as("the live release's commit").isEqualTo(winnerCommit);
        assertThat(mayfly.visit("race", "/").body())
                .contains(winner.getFileName().toString());
        assertThat(mayfly.releases("race"))
                .as("the losing push made no release")
                .hasSize(2);
    }

    @Test
    void aCloneOfAnAppChecksOutMain() throws Exception {
        mayfly.cli("apps:create", "cloned");
        Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("cloned"));
        MayflyProcess.setVersion(repo, "cloned-1");
        assertThat(mayfly.push(repo, "cloned", "first").exit()).isZero();

        MayflyProcess.Result clone = MayflyProcess.run(
                tmp,
                java.util.Map.of(),
                List.of(
                        "git",
                        "-c",
                        "init.defaultBranch=master",
                        "clone",
                        mayfly.gitUrl("cloned"),
                        tmp.resolve("cloned-copy").toString()));
        assertThat(clone.exit()).as(clone.out()).isZero();
        assertThat(clone.out()).doesNotContain("remote HEAD refers to nonexistent ref");
        Path copy = tmp.resolve("cloned-copy");
        assertThat(MayflyProcess.git(copy, "rev-parse", "--abbrev-ref", "HEAD")
                        .out()
                        .trim())
                .isEqualTo("main");
        assertThat(MayflyProcess.git(copy, "rev-parse", "HEAD").out())
                .isEqualTo(MayflyProcess.git(repo, "rev-parse", "HEAD").out());
        assertThat(Files.readString(copy.resolve("hello.c"))).contains("cloned-1");
    }

    @Test
    void badManifestRejectsThePushNamingFileLineAndKey() throws Exception {
        mayfly.cli("apps:create", "badtoml");
        Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("badtoml"));
        Files.writeString(
                repo.resolve("mayfly.toml"),
                "[build]\ncommand = \"make\"\nartifact = \"hello\"\n\n[run]\nmemory = \"lots\"\n");
        MayflyProcess.Result push = mayfly.push(repo, "badtoml", "bad manifest");
        assertThat(push.exit()).isNotZero();
        assertThat(push.out()).contains("mayfly.toml:6").contains("memory");
    }
}
