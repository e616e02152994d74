package io.mayfly.server.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mayfly.server.store.AppConfig;
import io.mayfly.server.store.Apps;
import io.mayfly.server.store.Audit;
import io.mayfly.server.store.Builds;
import io.mayfly.server.store.Database;
import io.mayfly.server.store.Formation;
import io.mayfly.server.store.Releases;
import io.mayfly.server.target.DeployTarget;
import io.mayfly.wire.ConfigCipher;
import io.mayfly.wire.Progress;
import io.mayfly.wire.StagedTest;
import io.mayfly.wire.manifest.Manifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release service over a real SQLite store and a deploy target that answers as each case scripts it (a
 * stand-in for the agents): what gets recorded for each outcome, and that the target hears of every step it must.
 */
class ReleaseServiceTest {
    static final String MANIFEST = """
            [build]
            command = "make"
            artifact = "hello"
            [run]
            driver = "process"
            args = ["--port", "{port}", "--greeting", "{config.GREETING}"]
            """;

    @TempDir
    Path dir;

    ScriptedTarget target;
    Releases releases;
    Builds builds;
    Formation formation;
    AppConfig config;
    Audit audit;
    AppLogs logs;
    ReleaseService service;
    Builds.Build build;

    @BeforeEach
    void store() throws Exception {
        Jdbi db = Database.sqlite(dir.resolve("m.db"));
        new Apps(db).create("a");
        builds = new Builds(db);
        builds.start("a", "git", "c1", MANIFEST, "make");
        builds.succeed("a", 1, 0, 10, "{}", List.of(new Builds.Artifact("hello", "ab".repeat(32), 5)));
        build = builds.find("a", 1).orElseThrow();
        releases = new Releases(db);
        formation = new Formation(db);
        config = new AppConfig(db, new ConfigCipher(dir.resolve("config.key")));
        audit = new Audit(db);
        logs = new AppLogs(dir.resolve("logs"));
        target = new ScriptedTarget();
        target.formation = formation;
        service = new ReleaseService(
                target,
                builds,
                releases,
                formation,
                new AppLocks(Duration.ofSeconds(5)),
                logs,
                config,
                audit,
                "http://%s.localhost:8080");
    }

    private ReleaseService.Result release(String description, Map<String, String> vars) throws Exception {
        return service.release(
                "a",
                build,
                Manifest.parse("mayfly.toml", MANIFEST),
                MANIFEST,
                config.cipher().seal(vars),
                description,
                StagedTest.NONE,
                Progress.NONE);
    }

    private String events() throws Exception {
        return Files.readString(logs.events("a"));
    }

    @Test
    void aReleaseTheTargetMakesLiveIsRecordedLiveWithItsPhasesAndItsConfigBecomesTheAppsThenTheTargetSettles()
            throws Exception {
        target.outcomes.add(new DeployTarget.Outcome.Live(Map.of("boot", 12L, "health", 3L)));
        ReleaseService.Result result = release("Deploy c1", Map.of("GREETING", "hi"));

        assertThat(result.ok()).isTrue();
        assertThat(result.release().status()).isEqualTo(Releases.Status.live);
        assertThat(result.release().phases()).containsEntry("boot", 12L).containsEntry("health", 3L);
        assertThat(config.get("a")).containsEntry("GREETING", "hi");
        assertThat(target.calls).containsExactly("deploy a v1", "settled a v1");
        assertThat(events()).contains("release v1 created: Deploy c1", "release v1 is live");
        assertThat(audit.list("a", 10)).extracting(Audit.Entry::action).contains("release");
    }

    @Test
    void aReleaseTheTargetFailsIsRecordedFailedWithTheTargetsReasonAndTheLiveOneStaysLive() throws Exception {
        target.outcomes.add(new DeployTarget.Outcome.Live(Map.of()));
        release("first", Map.of("GREETING", "one"));
        target.outcomes.add(
                new DeployTarget.Outcome.Failed("health check failed: connection refused", Map.of("boot", 4L)));
        ReleaseService.Result second = release("second", Map.of("GREETING", "two"));

        assertThat(second.ok()).isFalse();
        assertThat(second.failure()).isEqualTo("health check failed: connection refused");
        assertThat(second.release().status()).isEqualTo(Releases.Status.failed);
        assertThat(releases.live("a").orElseThrow().version()).isEqualTo(1);
        assertThat(config.get("a"))
                .as("the failed release's config is not the app's")
                .containsEntry("GREETING", "one");
        assertThat(target.calls).containsExactly("deploy a v1", "settled a v1", "deploy a v2", "settled a v2");
        assertThat(events()).contains("release v2 failed: health check failed: connection refused");
    }

    @Test
    void aBootArgumentTooLongOnceFilledFailsTheReleaseWithoutAskingTheTarget() throws Exception {
        ReleaseService.Result result = release("huge", Map.of("GREETING", "x".repeat(70 * 1024)));

        assertThat(result.ok()).isFalse();
        assertThat(result.failure())
                .startsWith(
                        "[run] args: argument 4 is 71680 characters once its {config.NAME} placeholders are filled");
        assertThat(target.calls).containsExactly("settled a v1");
    }

    @Test
    void aTargetThatThrowsFailsTheReleaseAsAnInternalErrorAndStillSettles() throws Exception {
        target.throwing = new IllegalStateException("agent table corrupt");
        ReleaseService.Result result = release("boom", Map.of());

        assertThat(result.failure()).isEqualTo("internal error: java.lang.IllegalStateException: agent table corrupt");
        assertThat(result.release().status()).isEqualTo(Releases.Status.failed);
        assertThat(target.calls).containsExactly("deploy a v1", "settled a v1");
    }

    @Test
    void aLockedAppGetsNoReleaseAndTheTargetHearsNothing() {
        audit.lock("a", "release freeze", "token 7");
        assertThatThrownBy(() -> release("locked", Map.of()))
                .isInstanceOf(DeployLocked.class)
                .hasMessageContaining("deploys of a are locked")
                .hasMessageContaining("release freeze")
                .hasMessageContaining("mayfly unlock -a a");
        assertThat(releases.list("a")).isEmpty();
        assertThat(target.calls).isEmpty();
    }

    @Test
    void rollbackWithoutAVersionGoesToTheNewestEarlierReleaseThatWasLiveSkippingFailedOnes() throws Exception {
        target.outcomes.add(new DeployTarget.Outcome.Live(Map.of()));
        release("v1", Map.of("GREETING", "one"));
        target.outcomes.add(new DeployTarget.Outcome.Live(Map.of()));
        release("v2", Map.of("GREETING", "two"));
        target.outcomes.add(new DeployTarget.Outcome.Failed("crashed", Map.of()));
        release("v3", Map.of("GREETING", "three"));
        target.outcomes.add(new DeployTarget.Outcome.Live(Map.of()));
        release("v4", Map.of("GREETING", "four"));

        target.outcomes.add(new DeployTarget.Outcome.Live(Map.of()));
        ReleaseService.Result back = service.rollback("a", null, Progress.NONE);

        assertThat(back.ok()).isTrue();
        assertThat(back.release().version()).isEqualTo(5);
        assertThat(back.release().description()).isEqualTo("Rollback to v2");
        assertThat(config.get("a")).as("a rollback brings its config back").containsEntry("GREETING", "two");
        assertThatThrownBy(() -> service.rollback("a", 9, Progress.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("app a has no release v9; see mayfly releases -a a");
    }

    @Test
    void aScaleTheTargetCannotCarryOutLeavesTheFormationAsItWasAndTheTargetCatchesUp() throws Exception {
        target.outcomes.add(new DeployTarget.Outcome.Live(Map.of()));
        release("v1", Map.of());
        formation.set("a", 2);
        target.outcomes.add(new DeployTarget.Outcome.Failed("not enough memory on agent h1", Map.of()));

        assertThatThrownBy(() -> service.scale("a", 5, Progress.NONE))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("could not scale a to 5: not enough memory on agent h1");
        assertThat(formation.instances("a")).contains(2);
        assertThat(target.calls).endsWith("rescale a v1 to 5", "changed a");

        target.outcomes.add(new DeployTarget.Outcome.Live(Map.of()));
        assertThat(service.scale("a", 3, Progress.NONE)).isEqualTo(3);
        assertThat(formation.instances("a")).contains(3);
    }

    @Test
    void theAppIsServedWhereTheTargetSaysElseAtTheServersOwnRouter() {
        assertThat(service.url("a")).isEqualTo("http://a.localhost:8080");
        target.url = "http://a.localhost:9090";
        assertThat(service.url("a")).isEqualTo("http://a.localhost:9090");
    }

    /** A deploy target that answers with the outcomes queued, in order, and writes down what it was asked. */
    static final class ScriptedTarget implements DeployTarget {
        final Deque<Outcome> outcomes = new ArrayDeque<>();
        final List<String> calls = new ArrayList<>();
        RuntimeException throwing;
        String url;
        Formation formation;

        @Override
        public Outcome deploy(String app, int version, Manifest manifest, StagedTest test, Progress progress) {
            calls.add("deploy " + app + " v" + version);
            if (throwing != null) throw throwing;
            return outcomes.remove();
        }

        @Override
        public Outcome rescale(String app, int version, Manifest manifest, Progress progress) {
            calls.add("rescale " + app + " v" + version + " to "
                    + formation.instances(app).orElse(-1)); // as the formation says then
            return outcomes.remove();
        }

        @Override
        public void settled(String app, int version) {
            calls.add("settled " + app + " v" + version);
        }

        @Override
        public void appChanged(String app) {
            calls.add("changed " + app);
        }

        @Override
        public void appsChanged() {
            calls.add("apps changed");
        }

        @Override
        public Runnable forgetting(String app) {
            return () -> calls.add("forgot " + app);
        }

        @Override
        public String url(String app) {
            return url;
        }
    }
}
