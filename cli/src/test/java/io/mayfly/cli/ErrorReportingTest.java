package io.mayfly.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.Views.ErrorView;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ErrorReportingTest {
    @TempDir
    Path home;

    @Test
    void anErrorAnswerPrintsItsErrorAndHintToStderrAndExitsWithOne() throws Exception {
        try (FakeApi api = FakeApi.start()) {
            api.answer(
                    "GET",
                    "/api/v1/apps/nope/releases",
                    404,
                    new ErrorView(
                            404, "no app named nope", "see mayfly apps, or create it with mayfly apps:create nope"));

            Cli.Result result = Cli.run(Cli.pointingAt(api, home, "t"), "releases", "-a", "nope");

            assertThat(result.exitCode()).isEqualTo(1);
            assertThat(result.out()).isEmpty();
            assertThat(result.err()).isEqualTo("""
                    error: no app named nope
                    hint: see mayfly apps, or create it with mayfly apps:create nope
                    """);
        }
    }

    @Test
    void anErrorWithoutHintPrintsOnlyTheError() throws Exception {
        try (FakeApi api = FakeApi.start()) {
            api.answer(
                    "POST",
                    "/api/v1/apps/hello/rollback",
                    409,
                    "{\"status\":409,\"error\":\"rollback to v2 failed as v5: health check failed\"}");
            api.answer("GET", "/api/v1/apps/hello/releases", 200, "[]");

            Cli.Result result = Cli.run(Cli.pointingAt(api, home, "t"), "rollback", "-a", "hello", "v2");

            assertThat(result.exitCode()).isEqualTo(1);
            assertThat(result.err())
                    .endsWith("error: rollback to v2 failed as v5: health check failed\n")
                    .doesNotContain("hint:");
        }
    }

    @Test
    void aRefusedConnectionSaysHowToStartTheServer() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        String url = "http://127.0.0.1:" + closedPort;

        Cli.Result result = Cli.run(Cli.environment(home, "MAYFLY_URL", url, "MAYFLY_TOKEN", "t"), "apps");

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err())
                .isEqualTo("error: cannot reach the Mayfly server at " + url
                        + " (connection refused). Start it with ./mayfly server, or set MAYFLY_URL.\n");
    }

    @Test
    void aRefusedTokenFromTheEnvironmentSaysSo() throws Exception {
        try (FakeApi api = FakeApi.start()) {
            api.answer("GET", "/api/v1/apps", 401, new ErrorView(401, "this token is not valid", "check MAYFLY_TOKEN"));

            Cli.Result result = Cli.run(Cli.pointingAt(api, home, "wrong"), "apps");

            assertThat(result.exitCode()).isEqualTo(1);
            assertThat(result.err())
                    .contains("error: the server at " + api.url()
                            + " refused the token from the MAYFLY_TOKEN environment variable (this token is not valid)")
                    .contains("hint: check MAYFLY_TOKEN");
        }
    }

    @Test
    void aRefusedTokenFromTheDataDirectoryNamesTheFile() throws Exception {
        try (FakeApi api = FakeApi.start()) {
            api.answer("GET", "/api/v1/apps", 401, new ErrorView(401, "this token is not valid", null));
            Path data = Files.createDirectories(home.resolve("data"));
            Files.writeString(data.resolve("admin.token"), "stale\n");

            Cli.Result result =
                    Cli.run(Cli.environment(home, "MAYFLY_URL", api.url()), "--data", data.toString(), "apps");

            assertThat(result.exitCode()).isEqualTo(1);
            assertThat(result.err())
                    .contains("refused the token from " + data.resolve("admin.token"))
                    .contains("hint: that token does not belong to this server");
            assertThat(api.only().authorization()).isEqualTo("Bearer stale");
        }
    }

    @Test
    void anAnswerThatIsNotAnErrorViewStillSaysWhatHappened() throws Exception {
        try (FakeApi api = FakeApi.start()) {
            api.handle(
                    "GET",
                    "/api/v1/apps",
                    exchange -> FakeApi.respond(exchange, 502, "text/html", "<h1>Bad Gateway</h1>"));

            Cli.Result result = Cli.run(Cli.pointingAt(api, home, "t"), "apps");

            assertThat(result.exitCode()).isEqualTo(1);
            assertThat(result.err())
                    .contains("error: the server at " + api.url() + " answered HTTP 502 to GET /api/v1/apps")
                    .contains("hint: it said: <h1>Bad Gateway</h1>");
        }
    }

    @Test
    void aMissingAppOptionIsAUsageError() {
        Cli.Result result = Cli.run(Cli.environment(home), "releases");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.err()).contains("Missing required option: '--app=APP'");
    }
}
