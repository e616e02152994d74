package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** builds:prune keeps the last N builds and every build a release names; a blob goes only when nothing names it. */
class RetentionTest {
    @TempDir
    Path tmp;

    @Test
    void pruneRemovesOldUnreleasedBuildsAndTheirBlobsButKeepsWhatReleasesAndOtherAppsNeed() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data"))
                .serverOptions("--keep-builds", "2")
                .start()) {
            mayfly.cli("apps:create", "keep");
            mayfly.cli("apps:create", "twin");
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("keep"));
            assertThat(mayfly.push(repo, "keep", "v1").exit()).isZero(); // build 1, named by release v1
            for (int i = 2; i <= 5; i++) upload(mayfly, "keep", ("image " + i).repeat(1000)); // builds 2..5, no release
            upload(mayfly, "twin", ("image " + 2).repeat(1000)); // the same bytes as keep's build 2

            MayflyProcess.Result dry = mayfly.cli("builds:prune", "--dry-run");
            assertThat(dry.exit()).as(dry.out()).isZero();
            assertThat(dry.out()).contains("Would remove 2 build(s) and 1 blob(s)", "keep #2", "keep #3");
            assertThat(numbers(mayfly, "keep")).containsExactly(5, 4, 3, 2, 1);
            var report = Json.MAPPER
                    .readTree(
                            mayfly.api("POST", "/api/v1/prune?dry_run=true", "").body())
                    .path("report");
            assertThat(report.path("bytes").asLong())
                    .as("only build 3's blob: build 2's is shared with twin")
                    .isEqualTo(("image " + 3).repeat(1000).length());

            MayflyProcess.Result prune = mayfly.cli("builds:prune");
            assertThat(prune.out()).contains("Removed 2 build(s) and 1 blob(s), freeing");
            assertThat(numbers(mayfly, "keep")).containsExactly(5, 4, 1);
            assertThat(blob(mayfly, ("image " + 2).repeat(1000)))
                    .as("still named by twin's build")
                    .exists();
            assertThat(blob(mayfly, ("image " + 3).repeat(1000))).doesNotExist();

            // What release v1 needs is still there: a rollback target deploys without a rebuild.
            assertThat(mayfly.cli("deploy", "-a", "keep", "--build", "1").exit())
                    .isZero();
            assertThat(mayfly.visit("keep", "/").statusCode()).isEqualTo(200);
            assertThat(mayfly.cli("builds:prune").out()).contains("Removed 0 build(s) and 0 blob(s)");
        }
    }

    private static List<Integer> numbers(MayflyProcess mayfly, String app) throws Exception {
        return List.of(Json.read(
                        mayfly.api("GET", "/api/v1/apps/" + app + "/builds", null)
                                .body(),
                        Views.BuildView[].class))
                .stream()
                .map(Views.BuildView::number)
                .toList();
    }

    private static Path blob(MayflyProcess mayfly, String content) throws Exception {
        String sha = sha256(content);
        return mayfly.data.resolve("blobs/sha256").resolve(sha.substring(0, 2)).resolve(sha);
    }

    private static void upload(MayflyProcess mayfly, String app, String content) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mayfly.apiPort + "/api/v1/apps/" + app
                                        + "/builds?artifact=hello&sha256=" + sha256(content)))
                                .header("Authorization", "Bearer " + mayfly.token())
                                .POST(HttpRequest.BodyPublishers.ofString(content))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }

    private static String sha256(String content) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content.getBytes()));
    }
}
