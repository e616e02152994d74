package io.mayfly.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mayfly.wire.Json;
import io.mayfly.wire.Views.ServerInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerDiscoveryTest {
    @TempDir
    Path home;

    @Test
    void theDataDirectoryOptionLeadsToTheRunningServer() throws Exception {
        try (FakeApi api = FakeApi.start()) {
            api.answer("GET", "/api/v1/apps", 200, "[]");
            Path data = writeServerFiles(home.resolve("somewhere"), api.url(), "file-token");

            Cli.Result result = Cli.run(Cli.environment(home), "--data", data.toString(), "apps");

            assertThat(result.exitCode()).isZero();
            assertThat(result.out()).startsWith("No apps yet.");
            assertThat(api.only().authorization()).isEqualTo("Bearer file-token");
        }
    }

    @Test
    void mayflyDataAndThenTheHomeDirectoryAreTheFallbacks() {
        Path viaVariable = home.resolve("var-data");
        assertThat(ServerAddress.dataDirectory(null, Cli.environment(home, "MAYFLY_DATA", viaVariable.toString())))
                .isEqualTo(viaVariable);
        assertThat(ServerAddress.dataDirectory(null, Cli.environment(home))).isEqualTo(home.resolve(".mayfly"));
        assertThat(ServerAddress.dataDirectory(Path.of("/opt/x"), Cli.environment(home, "MAYFLY_DATA", "/y")))
                .isEqualTo(Path.of("/opt/x"));
    }

    @Test
    void theHomeDirectoryDefaultIsRead() throws Exception {
        writeServerFiles(home.resolve(".mayfly"), "http://127.0.0.1:7070", "home-token");

        ServerAddress address = ServerAddress.discover(null, Cli.environment(home));

        assertThat(address)
                .isEqualTo(new ServerAddress(
                        "http://127.0.0.1:7070",
                        "home-token",
                        home.resolve(".mayfly/admin.token").toString()));
        assertThat(address.apiBase()).isEqualTo("http://127.0.0.1:7070/api/v1");
    }

    @Test
    void environmentVariablesWinOverTheDataDirectory() throws Exception {
        Path data = writeServerFiles(home.resolve("data"), "http://127.0.0.1:1", "file-token");

        ServerAddress address = ServerAddress.discover(
                data, Cli.environment(home, "MAYFLY_URL", "http://10.0.0.5:7070/api/v1/", "MAYFLY_TOKEN", "env-token"));

        assertThat(address.serverUrl()).isEqualTo("http://10.0.0.5:7070");
        assertThat(address.token()).isEqualTo("env-token");
        assertThat(address.tokenSource()).isEqualTo("the MAYFLY_TOKEN environment variable");
    }

    @Test
    void theUrlFromTheEnvironmentCanUseTheTokenFileOfTheDataDirectory() throws Exception {
        Path data = writeServerFiles(home.resolve("data"), "http://127.0.0.1:1", "file-token");

        ServerAddress address = ServerAddress.discover(data, Cli.environment(home, "MAYFLY_URL", "http://127.0.0.1:9"));

        assertThat(address.serverUrl()).isEqualTo("http://127.0.0.1:9");
        assertThat(address.token()).isEqualTo("file-token");
    }

    @Test
    void noServerFoundSaysHowToStartOneOrWhatToSet() {
        Cli.Result result = Cli.run(Cli.environment(home), "apps");

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.err())
                .contains("error: no Mayfly server found: MAYFLY_URL is not set and "
                        + home.resolve(".mayfly/server.json") + " does not exist")
                .contains("hint: start the server with ./mayfly server")
                .contains("set MAYFLY_URL and MAYFLY_TOKEN");
    }

    @Test
    void aMissingTokenSaysWhereItWasLookedFor() {
        assertThatThrownBy(() ->
                        ServerAddress.discover(home, Cli.environment(home, "MAYFLY_URL", "http://127.0.0.1:7070")))
                .isInstanceOf(CliError.class)
                .hasMessage(
                        "no API token: MAYFLY_TOKEN is not set and " + home.resolve("admin.token") + " does not exist");
    }

    @Test
    void aBrokenServerJsonIsNamed() throws Exception {
        Files.writeString(home.resolve("server.json"), "{not json");

        assertThatThrownBy(() -> ServerAddress.discover(home, Cli.environment(home, "MAYFLY_TOKEN", "t")))
                .isInstanceOf(CliError.class)
                .hasMessageStartingWith("cannot read the server address from " + home.resolve("server.json"));
    }

    @Test
    void aUrlThatIsNotOneIsRefused() {
        assertThatThrownBy(() -> ServerAddress.discover(
                        home, Cli.environment(home, "MAYFLY_URL", "localhost:7070", "MAYFLY_TOKEN", "t")))
                .isInstanceOf(CliError.class)
                .hasMessage("'localhost:7070' is not a server URL");
    }

    private static Path writeServerFiles(Path data, String apiUrl, String token) throws Exception {
        Files.createDirectories(data);
        Files.writeString(
                data.resolve("server.json"),
                Json.pretty(new ServerInfo("0.1.0", apiUrl, "http://127.0.0.1:8080", "localhost")));
        Files.writeString(data.resolve("admin.token"), token + "\n");
        return data;
    }
}
