package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.server.store.TestPostgres;
import io.mayfly.server.store.TestS3;
import io.mayfly.wire.Views;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stores past one machine: the same end-to-end push as the embedded configuration, with the state in a real
 * PostgreSQL server and the blobs in a real S3 API server (S3Proxy); then a second server sharing both serves the
 * same releases and artifacts, and a server holding other keys refuses to join.
 */
class SharedStoresTest {
    @TempDir
    static Path tmp;

    static TestS3 s3;
    static String database;
    static String bucket;

    @BeforeAll
    static void startStores() throws Exception {
        database = TestPostgres.newDatabase();
        s3 = new TestS3(tmp.resolve("s3"));
        bucket = s3.newBucket("mayfly-blobs");
    }

    @AfterAll
    static void stopStores() throws Exception {
        if (s3 != null) s3.close();
    }

    private static MayflyProcess server(String name) throws Exception {
        return new MayflyProcess(tmp.resolve(name))
                .serverOptions("--db", database, "--blobs", bucket)
                .env("AWS_ACCESS_KEY_ID", TestS3.ACCESS_KEY)
                .env("AWS_SECRET_ACCESS_KEY", TestS3.SECRET_KEY);
    }

    @Test
    void aPushIsStoredInPostgresqlAndS3AndASecondServerSharingThemServesTheSameState() throws Exception {
        try (MayflyProcess first = server("first").start()) {
            assertThat(first.serverLog())
                    .contains("database:     postgresql://postgres:***@127.0.0.1:")
                    .contains("blobs:        " + bucket)
                    .doesNotContain("unused@");
            assertThat(first.cli("apps:create", "hello").exit()).isZero();
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("hello"));
            MayflyProcess.setVersion(repo, "shared-1");
            MayflyProcess.Result push = first.push(repo, "hello", "first");
            assertThat(push.exit()).as(push.out()).isZero();
            assertThat(first.visit("hello", "/").body()).contains("shared-1");

            Views.ReleaseView live = first.releases("hello").getFirst();
            String key = "sha256/" + live.sha256().substring(0, 2) + "/" + live.sha256();
            assertThat(s3.store.blobExists("mayfly-blobs", key))
                    .as("the artifact is in the bucket")
                    .isTrue();
            try (var rows = TestPostgres.open(database).open()) {
                assertThat(rows.select("SELECT status FROM releases WHERE app = 'hello' AND version = 1")
                                .mapTo(String.class)
                                .one())
                        .isEqualTo("live");
            }

            // A second server, its own data directory holding only the first one's keys.
            Path secondData = tmp.resolve("second");
            Files.createDirectories(secondData);
            for (String file : List.of("signing-key", "signing-key.pub", "config.key")) {
                Files.copy(first.data.resolve(file), secondData.resolve(file));
            }
            assertThat(secondData.resolve("blobs"))
                    .as("the second server has no blob of its own")
                    .doesNotExist();
            try (MayflyProcess second = server("second")) {
                second.start();
                List<Views.ReleaseView> seen = second.releases("hello");
                assertThat(seen).hasSize(1);
                assertThat(seen.getFirst().sha256()).isEqualTo(live.sha256());
                assertThat(seen.getFirst().status()).isEqualTo("live");

                // It boots the live release with the image fetched from the bucket, as after a restart, and serves it.
                assertThat(second.awaitServing("hello", "shared-1", Duration.ofSeconds(30)))
                        .contains("shared-1");
                HttpResponse<byte[]> artifact = HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + second.apiPort
                                                + "/job/hello/build/1/artifact/hello"))
                                        .header("Authorization", "Bearer " + first.token())
                                        .build(),
                                HttpResponse.BodyHandlers.ofByteArray());
                assertThat(artifact.statusCode()).isEqualTo(200);
                assertThat(HexFormat.of()
                                .formatHex(MessageDigest.getInstance("SHA-256").digest(artifact.body())))
                        .isEqualTo(live.sha256());
                assertThat(secondData.resolve("blobs").resolve(key))
                        .as("fetched from the bucket and cached")
                        .exists();

                // A deploy through the first server: the second one's agent hears of it from the database and switches
                // too.
                MayflyProcess.setVersion(repo, "shared-2");
                MayflyProcess.Result again = first.push(repo, "hello", "second");
                assertThat(again.exit()).as(again.out()).isZero();
                assertThat(second.awaitServing("hello", "shared-2", Duration.ofSeconds(30)))
                        .contains("shared-2");
                // Said once the old instance has drained, a little after the new one serves.
                Eventually.until(
                        Duration.ofSeconds(15),
                        () -> second.cli("logs", "-a", "hello").out(),
                        out -> out.contains("switched to v2, the live release, in "),
                        "the second server's log saying it switched");
            }

            // A third server with keys of its own would sign with a key nobody trusts: it refuses to start.
            MayflyProcess stranger = server("stranger");
            try {
                stranger.start();
                throw new AssertionError("a server with other keys started on the shared database");
            } catch (IllegalStateException refused) {
                assertThat(refused.getMessage())
                        .contains(
                                "servers that share a database must share their keys",
                                "copy signing-key, signing-key.pub and config.key");
            } finally {
                stranger.close();
            }
        }
    }

    /**
     * Two control planes (--no-agent) on one database and bucket, and one agent following the second. A push to the
     * first deploys on that agent all the same: the target goes through the database, the second server passes the
     * agent's push lines and staged test on to the first (where the build's checkout is), and the agent's report
     * reaches the first through the database.
     */
    @Test
    void aDeployThroughOneServerReachesAnAgentFollowingAnother() throws Exception {
        String db = TestPostgres.newDatabase();
        String blobs = s3.newBucket("mayfly-cross");
        java.util.function.Function<String, MayflyProcess> controlPlane = name -> {
            try {
                return new MayflyProcess(tmp.resolve(name))
                        .serverOptions("--db", db, "--blobs", blobs, "--no-agent")
                        .env("AWS_ACCESS_KEY_ID", TestS3.ACCESS_KEY)
                        .env("AWS_SECRET_ACCESS_KEY", TestS3.SECRET_KEY);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        try (MayflyProcess first = controlPlane.apply("cross-a").start()) {
            Path secondData = tmp.resolve("cross-b");
            Files.createDirectories(secondData);
            for (String file : List.of("signing-key", "signing-key.pub", "config.key")) {
                Files.copy(first.data.resolve(file), secondData.resolve(file));
            }
            try (MayflyProcess second = controlPlane.apply("cross-b").start()) {
                MayflyProcess.Result token = first.cli("tokens:create", "--agent", "edge");
                String secret = token.out()
                        .lines()
                        .filter(l -> l.startsWith("mf_"))
                        .findFirst()
                        .orElseThrow(() -> new AssertionError(token.out()));
                try (AgentProcess edge = new AgentProcess(
                                tmp.resolve("cross-edge"),
                                "--server",
                                "http://127.0.0.1:" + second.apiPort,
                                "--token",
                                secret,
                                "--name",
                                "edge",
                                "--capacity",
                                "1024")
                        .start()) {
                    Eventually.until(
                            Duration.ofSeconds(30),
                            () -> first.cli("agents").out(),
                            out -> out.contains("edge") && out.contains("up"),
                            "the agent registered");
                    assertThat(first.cli("apps:create", "cross").exit()).isZero();
                    Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("cross"));
                    MayflyProcess.setVersion(repo, "cross-1");
                    Files.writeString(
                            repo.resolve("mayfly.toml"),
                            Files.readString(repo.resolve("mayfly.toml"))
                                    + "\n[test]\ncommand = \"curl -fsS $MAYFLY_TEST_URL/ | grep cross-1\"\n");
                    MayflyProcess.Result push = first.push(repo, "cross", "one");
                    assertThat(push.exit()).as(push.out()).isZero();
                    assertThat(push.out())
                            .contains(
                                    "Deploying v1 on agent edge",
                                    "Testing the staged instance",
                                    "hello cross-1",
                                    "switched traffic to cross-v1-");
                    assertThat(MayflyProcess.visit(edge.routerPort, "cross", "/")
                                    .body())
                            .contains("cross-1");

                    // A release whose test fails, pushed to the first server: the agent keeps v1.
                    MayflyProcess.setVersion(repo, "cross-2");
                    MayflyProcess.Result failed = first.push(repo, "cross", "two");
                    assertThat(failed.exit()).as(failed.out()).isNotZero();
                    assertThat(failed.out()).contains("test failed");
                    assertThat(MayflyProcess.visit(edge.routerPort, "cross", "/")
                                    .body())
                            .contains("cross-1");
                    assertThat(second.releases("cross"))
                            .extracting(Views.ReleaseView::status)
                            .containsExactly("failed", "live");
                }
            }
        }
    }
}
