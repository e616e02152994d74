package io.mayfly.cli;

import static io.mayfly.cli.Cli.NOW;
import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.Views.AppView;
import io.mayfly.wire.Views.ArtifactView;
import io.mayfly.wire.Views.BuildView;
import io.mayfly.wire.Views.InstanceView;
import io.mayfly.wire.Views.ReleaseView;
import io.mayfly.wire.Views.ServerInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientCommandsTest {
    static final String TOKEN = "tok-123";
    static final String SHA_V2 = "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12";
    static final String SHA_V3 = "9f8e7d6c5b4a9f8e7d6c5b4a9f8e7d6c5b4a9f8e7d6c5b4a9f8e7d6c5b4a9f8e";

    @TempDir
    Path home;

    FakeApi api;
    Environment env;

    @BeforeEach
    void start() throws Exception {
        api = FakeApi.start();
        env = Cli.pointingAt(api, home, TOKEN);
    }

    @AfterEach
    void stop() {
        api.close();
    }

    @Test
    void appsPrintsATableOfLiveReleasesAndLastDeploys() {
        api.answer(
                "GET",
                "/api/v1/apps",
                200,
                List.of(
                        new AppView(
                                "hello",
                                api.url() + "/git/hello.git",
                                "http://hello.localhost:8080",
                                3,
                                SHA_V3,
                                NOW.minusSeconds(86400),
                                NOW.minus(Duration.ofMinutes(3)),
                                "live",
                                true),
                        new AppView(
                                "fresh-app",
                                api.url() + "/git/fresh-app.git",
                                "http://fresh-app.localhost:8080",
                                0,
                                null,
                                NOW.minusSeconds(60),
                                null,
                                null,
                                false)));

        Cli.Result result = Cli.run(env, "apps");

        assertThat(result.exitCode()).isZero();
        FakeApi.Received request = api.only();
        assertThat(request.method()).isEqualTo("GET");
        assertThat(request.pathAndQuery()).isEqualTo("/api/v1/apps");
        assertThat(request.authorization()).isEqualTo("Bearer " + TOKEN);
        assertThat(result.out()).isEqualTo("""
                NAME       LIVE  URL                              REGISTRY  LAST DEPLOY
                hello      v3    http://hello.localhost:8080      public    3 min ago, live
                fresh-app  -     http://fresh-app.localhost:8080  private   -
                """);
    }

    @Test
    void driversReprobeAsksTheServerToForgetThenListsWhatTheDriversSayNow() {
        api.answer(
                "POST",
                "/api/v1/drivers/qemu/reprobe",
                200,
                new io.mayfly.wire.Views.Reprobed(
                        "qemu",
                        List.of("host-a"),
                        "asked at their next heartbeat; the next boot there learns it again"));
        api.answer(
                "GET",
                "/api/v1/drivers",
                200,
                List.of(new io.mayfly.wire.Views.DriverView(
                        "qemu",
                        true,
                        "offered by host-a; host-a: TCG (software emulation): KVM failed vmlinux (sha256 c3718796ffdb..., 65906612 bytes)",
                        1)));

        Cli.Result result = Cli.run(env, "drivers", "--reprobe", "--agent", "host-a");

        assertThat(result.exitCode()).as(result.err()).isZero();
        assertThat(api.received.getFirst().method()).isEqualTo("POST");
        assertThat(api.received.getFirst().pathAndQuery()).isEqualTo("/api/v1/drivers/qemu/reprobe?agent=host-a");
        assertThat(result.out())
                .startsWith("qemu on host-a: forgot what it learnt; asked at their next heartbeat")
                .contains(
                        "qemu    yes        1          offered by host-a; host-a: TCG (software emulation): KVM failed vmlinux");
    }

    @Test
    void appsJsonPrintsTheServersArrayPrettyPrinted() {
        api.answer("GET", "/api/v1/apps", 200, "[{\"name\":\"hello\",\"liveRelease\":2,\"extraField\":\"kept\"}]");

        Cli.Result result = Cli.run(env, "apps", "--json");

        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).isEqualToIgnoringNewLines("""
                [ {
                  "name" : "hello",
                  "liveRelease" : 2,
                  "extraField" : "kept"
                } ]""");
    }

    @Test
    void appsCreatePostsTheNameAndPrintsTheGitRemoteWithATokenPlaceholder() {
        String gitUrl = api.url() + "/git/hello.git";
        api.answer(
                "POST",
                "/api/v1/apps",
                201,
                new AppView("hello", gitUrl, "http://hello.localhost:8080", 0, null, NOW, null, null, false));

        Cli.Result result = Cli.run(env, "apps:create", "hello");

        assertThat(result.exitCode()).isZero();
        FakeApi.Received request = api.only();
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.pathAndQuery()).isEqualTo("/api/v1/apps");
        assertThat(request.contentType()).isEqualTo("application/json");
        assertThat(request.body()).isEqualTo("{\"name\":\"hello\",\"public\":false}");
        String hostPort = api.url().substring("http://".length());
        assertThat(result.out())
                .startsWith("Created hello\ngit remote: " + gitUrl + "\n")
                .contains("git push http://mayfly:$MAYFLY_TOKEN@" + hostPort + "/git/hello.git HEAD:main")
                .doesNotContain(TOKEN);
    }

    @Test
    void appsCreatePublicAsksForAPublicRegistryAndSaysWhereAnyoneReadsIt() {
        String gitUrl = api.url() + "/git/site.git";
        api.answer(
                "POST",
                "/api/v1/apps",
                201,
                new AppView("site", gitUrl, "http://site.localhost:8080", 0, null, NOW, null, null, true));

        Cli.Result result = Cli.run(env, "apps:create", "site", "--public");

        assertThat(result.exitCode()).isZero();
        assertThat(api.only().body()).isEqualTo("{\"name\":\"site\",\"public\":true}");
        assertThat(result.out())
                .contains(
                        "The registry of site is public: anyone may read " + api.url() + "/job/site without a token\n");
    }

    @Test
    void appsPublicOnAndOffPatchTheAppAndSayWhatItNowIs() {
        api.answer("PATCH", "/api/v1/apps/site", 200, new AppView("site", "g", "u", 0, null, NOW, null, null, true));
        Cli.Result on = Cli.run(env, "apps:public", "-a", "site", "on");
        assertThat(on.exitCode()).as(on.err()).isZero();
        FakeApi.Received request = api.only();
        assertThat(request.method()).isEqualTo("PATCH");
        assertThat(request.body()).isEqualTo("{\"public\":true}");
        assertThat(on.out())
                .isEqualTo(
                        "The registry of site is public: anyone may read " + api.url() + "/job/site without a token\n");

        api.received.clear();
        api.answer("PATCH", "/api/v1/apps/site", 200, new AppView("site", "g", "u", 0, null, NOW, null, null, false));
        Cli.Result off = Cli.run(env, "apps:public", "-a", "site", "off");
        assertThat(off.exitCode()).isZero();
        assertThat(api.only().body()).isEqualTo("{\"public\":false}");
        assertThat(off.out())
                .isEqualTo("The registry of site is private: reading its builds and artifacts needs a token\n");

        Cli.Result neither = Cli.run(env, "apps:public", "-a", "site", "maybe");
        assertThat(neither.exitCode()).isNotZero();
        assertThat(neither.err()).contains("on", "off");
    }

    @Test
    void appsCreateWithALocalRepositoryRefusesWithoutCallingTheServer() {
        Cli.Result path = Cli.run(env, "apps:create", "hello", "--repo", "/var/lib/mayfly/git/other.git");
        Cli.Result file = Cli.run(env, "apps:create", "hello", "--repo", "file:///var/lib/mayfly/git/other.git");
        Cli.Result branch = Cli.run(
                env, "apps:create", "hello", "--repo", "https://example.org/o/r.git", "--branch", "x:refs/heads/y");

        assertThat(path.exitCode()).isEqualTo(1);
        assertThat(path.err())
                .contains("error: --repo: '/var/lib/mayfly/git/other.git' is a path on the server")
                .contains("hint: give https://HOST/OWNER/REPO.git");
        assertThat(file.exitCode()).isEqualTo(1);
        assertThat(file.err()).contains("uses file://, which is not allowed");
        assertThat(branch.exitCode()).isEqualTo(1);
        assertThat(branch.err()).contains("error: --branch: 'x:refs/heads/y' is not a branch name");
        assertThat(api.received).as("no app is made for a refused repository").isEmpty();
    }

    @Test
    void appsDestroyWithoutConfirmationRefusesWithoutCallingTheServer() {
        Cli.Result missing = Cli.run(env, "apps:destroy", "hello");
        Cli.Result different = Cli.run(env, "apps:destroy", "hello", "--confirm", "hallo");

        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err())
                .contains("error: apps:destroy needs confirmation")
                .contains("hint: repeat the app's name with --confirm: mayfly apps:destroy hello --confirm hello");
        assertThat(different.exitCode()).isEqualTo(1);
        assertThat(different.err())
                .contains("--confirm hallo does not match the app hello")
                .contains("--confirm hello");
        assertThat(api.received).isEmpty();
    }

    @Test
    void appsDestroyWithConfirmationDeletesWithTheConfirmQuery() {
        api.handle("DELETE", "/api/v1/apps/hello", exchange -> FakeApi.respond(exchange, 204, "text/plain", ""));

        Cli.Result result = Cli.run(env, "apps:destroy", "hello", "--confirm", "hello");

        assertThat(result.exitCode()).isZero();
        assertThat(api.only().method()).isEqualTo("DELETE");
        assertThat(api.only().pathAndQuery()).isEqualTo("/api/v1/apps/hello?confirm=hello");
        assertThat(result.out()).isEqualTo("Destroyed hello\n");
    }

    @Test
    void releasesListsNewestFirstAndMarksTheLiveOne() {
        api.answer("GET", "/api/v1/apps/hello/releases", 200, releases());

        Cli.Result result = Cli.run(env, "releases", "-a", "hello");

        assertThat(result.exitCode()).isZero();
        assertThat(api.only().pathAndQuery()).isEqualTo("/api/v1/apps/hello/releases");
        assertThat(result.out()).isEqualTo("""
                  VERSION  STATUS      BUILD  SHA256        DESCRIPTION                          CREATED
                  v4       failed      #3     9f8e7d6c5b4a  Deploy 9f8e7d6: health check failed  2 min ago
                * v3       live        #3     9f8e7d6c5b4a  Deploy 9f8e7d6                       5 h ago
                  v2       superseded  #2     ab12cd34ef56  Deploy ab12cd3                       3 days ago
                (* = live)
                """);
    }

    @Test
    void releasesJsonPrintsTheServersArray() {
        api.answer("GET", "/api/v1/apps/hello/releases", 200, releases());

        Cli.Result result = Cli.run(env, "releases", "--app", "hello", "--json");

        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).startsWith("[ {\n").contains("\"version\" : 4").contains("\"status\" : \"live\"");
    }

    @Test
    void rollbackToAVersionPostsItAndSaysHowToUndo() {
        api.answer("GET", "/api/v1/apps/hello/releases", 200, releases());
        api.answer(
                "POST", "/api/v1/apps/hello/rollback", 201, release(5, 2, SHA_V2, "live", "Rollback to v2", null, 0));

        Cli.Result result = Cli.run(env, "rollback", "-a", "hello", "v2");

        assertThat(result.exitCode()).isZero();
        assertThat(api.received).extracting(FakeApi.Received::method).containsExactly("GET", "POST");
        FakeApi.Received post = api.received.get(1);
        assertThat(post.pathAndQuery()).isEqualTo("/api/v1/apps/hello/rollback");
        assertThat(post.authorization()).isEqualTo("Bearer " + TOKEN);
        assertThat(post.body()).isEqualTo("{\"version\":2}");
        assertThat(result.out()).isEqualTo("""
                Rolled back hello to v2: now live as v5 (sha256:ab12cd34ef56...)
                Undo with: mayfly rollback -a hello v3
                """);
    }

    @Test
    void rollbackWithoutAVersionAsksForThePreviousRelease() {
        api.answer("GET", "/api/v1/apps/hello/releases", 200, releases());
        api.answer(
                "POST", "/api/v1/apps/hello/rollback", 201, release(5, 2, SHA_V2, "live", "Rollback to v2", null, 0));

        Cli.Result result = Cli.run(env, "rollback", "-a", "hello");

        assertThat(result.exitCode()).isZero();
        assertThat(api.received.get(1).body()).isEqualTo("{\"version\":null}");
        assertThat(result.out())
                .startsWith("Rolled back hello to v2: now live as v5")
                .contains("Undo with: mayfly rollback -a hello v3");
    }

    @Test
    void rollbackAcceptsABareNumberAndRejectsNonsenseBeforeCallingTheServer() {
        api.answer("GET", "/api/v1/apps/hello/releases", 200, releases());
        api.answer(
                "POST", "/api/v1/apps/hello/rollback", 201, release(5, 2, SHA_V2, "live", "Rollback to v2", null, 0));

        assertThat(Cli.run(env, "rollback", "-a", "hello", "2").exitCode()).isZero();
        assertThat(api.received.get(1).body()).isEqualTo("{\"version\":2}");

        api.received.clear();
        Cli.Result bad = Cli.run(env, "rollback", "-a", "hello", "latest");
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err())
                .contains("error: 'latest' is not a release version")
                .contains("hint: write it as vN or N");
        assertThat(api.received).isEmpty();
    }

    @Test
    void psListsInstances() {
        api.answer(
                "GET",
                "/api/v1/apps/hello/instances",
                200,
                List.of(
                        new InstanceView(
                                "hello-v3-a1",
                                "hello",
                                3,
                                "process",
                                "serving",
                                41001,
                                4242,
                                NOW.minusSeconds(125),
                                1,
                                null,
                                0),
                        new InstanceView(
                                "hello-v2-b2",
                                "hello",
                                2,
                                "qemu",
                                "exited",
                                41000,
                                0,
                                NOW.minusSeconds(4000),
                                0,
                                null,
                                0)));

        Cli.Result result = Cli.run(env, "ps", "-a", "hello");

        assertThat(result.exitCode()).isZero();
        assertThat(api.only().pathAndQuery()).isEqualTo("/api/v1/apps/hello/instances");
        assertThat(result.out()).isEqualTo("""
                ID           RELEASE  DRIVER   STATE    PORT   PID   UPTIME  RESTARTS
                hello-v3-a1  v3       process  serving  41001  4242  2m 05s  1
                hello-v2-b2  v2       qemu     exited   41000  -     -       0
                """);
        assertThat(Cli.run(env, "ps", "-a", "hello", "--json").out()).contains("\"id\" : \"hello-v3-a1\"");
    }

    @Test
    void psNamesTheHostWhenRemoteAgentsRunInstances() {
        api.answer(
                "GET",
                "/api/v1/apps/hello/instances",
                200,
                List.of(new InstanceView(
                        "hello-v3-a1",
                        "hello",
                        3,
                        "process",
                        "serving",
                        41001,
                        4242,
                        NOW.minusSeconds(125),
                        0,
                        "web-1",
                        0)));

        assertThat(Cli.run(env, "ps", "-a", "hello").out()).isEqualTo("""
                ID           RELEASE  HOST   DRIVER   STATE    PORT   PID   UPTIME  RESTARTS
                hello-v3-a1  v3       web-1  process  serving  41001  4242  2m 05s  0
                """);
    }

    @Test
    void buildsListsCommitDurationAndArtifact() {
        api.answer(
                "GET",
                "/api/v1/apps/hello/builds",
                200,
                List.of(
                        new BuildView(
                                "hello",
                                3,
                                "succeeded",
                                "9f8e7d6c5b4a3210",
                                "git",
                                "make",
                                0,
                                NOW.minusSeconds(600),
                                12_345L,
                                List.of(new ArtifactView("hello", SHA_V3, 729_088)),
                                null),
                        new BuildView(
                                "hello",
                                2,
                                "failed",
                                "ab12cd34ef56",
                                "git",
                                "make",
                                2,
                                NOW.minusSeconds(900),
                                800L,
                                List.of(),
                                "make exited with 2")));

        Cli.Result result = Cli.run(env, "builds", "-a", "hello");

        assertThat(result.exitCode()).isZero();
        assertThat(result.out()).isEqualTo("""
                NUMBER  STATUS     COMMIT   DURATION  ARTIFACT
                #3      succeeded  9f8e7d6  12.3 s    hello 9f8e7d6c5b4a 712 KiB
                #2      failed     ab12cd3  800 ms    -
                """);
        assertThat(Cli.run(env, "builds", "-a", "hello", "--json").out()).contains("\"number\" : 3");
    }

    @Test
    void infoPrintsTheServerInfo() {
        api.answer(
                "GET", "/api/v1/info", 200, new ServerInfo("0.1.0", api.url(), "http://127.0.0.1:8080", "localhost"));

        Cli.Result result = Cli.run(env, "info");

        assertThat(result.exitCode()).isZero();
        assertThat(result.out())
                .contains("version:  0.1.0")
                .contains("API:      " + api.url())
                .contains("router:   http://127.0.0.1:8080")
                .contains("domain:   localhost");
    }

    @Test
    void appNamesStayOnePathSegment() {
        Cli.Result result = Cli.run(env, "releases", "-a", "../apps");

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(api.only().pathAndQuery()).isEqualTo("/api/v1/apps/..%2Fapps/releases");
    }

    private static List<ReleaseView> releases() {
        return List.of(
                release(4, 3, SHA_V3, "failed", "Deploy 9f8e7d6", "health check failed", 120),
                release(3, 3, SHA_V3, "live", "Deploy 9f8e7d6", null, 5 * 3600),
                release(2, 2, SHA_V2, "superseded", "Deploy ab12cd3", null, 3 * 86400));
    }

    private static ReleaseView release(
            int version, int build, String sha, String status, String description, String reason, long secondsAgo) {
        return new ReleaseView(
                "hello",
                version,
                build,
                "hello",
                sha,
                729_088,
                status,
                reason,
                description,
                NOW.minusSeconds(secondsAgo),
                Map.of("boot", 40L));
    }
}
