package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where an app builds from decides what it can read: an attacker with a deploy token for app a cannot point a at
 * b's repository on the server (or any path or local transport), not even an admin can, and a source stored before
 * the rule is refused when it is fetched; a repository elsewhere (a forge over HTTPS) still works.
 */
class AppSourceTest {
    @TempDir
    Path tmp;

    @Test
    void aDeployTokenCannotPointItsAppAtAnotherAppsRepositoryAndNoLocalPathIsEverFetched() throws Exception {
        try (HttpsForge forges = HttpsForge.start(tmp.resolve("forge"));
                MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data"))
                        .jvm(forges.jvmOptions())
                        .start()) {
            mayfly.cli("apps:create", "a");
            mayfly.cli("apps:create", "b");
            Path secretCode = MayflyProcess.checkoutExample("hello", tmp.resolve("b"));
            MayflyProcess.setVersion(secretCode, "b-private");
            assertThat(mayfly.push(secretCode, "b", "b's code").exit()).isZero();
            String bRepo = mayfly.data.resolve("git/b.git").toString();
            String deployA = TokenMatrixTest.create(mayfly, "deploy", "a", null);

            // The attacker's journey: a deploy token for a, b's repository on the server's disk.
            HttpResponse<String> attack = TokenMatrixTest.send(
                    deployA, "PUT", "/api/v1/apps/a/source", "{\"repo\": \"" + bRepo + "\"}", mayfly);
            assertThat(attack.statusCode()).as(attack.body()).isEqualTo(403);
            assertThat(attack.body()).contains("may not admin on app a", "admin token");
            HttpResponse<String> sync = TokenMatrixTest.send(deployA, "POST", "/api/v1/apps/a/sync", "{}", mayfly);
            assertThat(sync.statusCode()).as(sync.body()).isEqualTo(400);
            assertThat(sync.body()).contains("a has no repository to sync from");

            // Not even an admin may: a path, file://, a transport helper, plain http or git://.
            for (String local : List.of(
                    bRepo,
                    "git/b.git",
                    "file://" + bRepo,
                    "ext::sh -c cat% /etc/passwd",
                    "ext::git-upload-pack " + bRepo,
                    "http://127.0.0.1:" + mayfly.apiPort + "/git/b.git",
                    "git://127.0.0.1/b.git")) {
                HttpResponse<String> refused = mayfly.api(
                        "PUT", "/api/v1/apps/a/source", "{\"repo\": \"" + local.replace("\\", "\\\\") + "\"}");
                assertThat(refused.statusCode())
                        .as(local + ": " + refused.body())
                        .isEqualTo(400);
                assertThat(refused.body())
                        .contains("cannot build a from that repository", "https://HOST/OWNER/REPO.git");
            }
            HttpResponse<String> refspec = mayfly.api(
                    "PUT",
                    "/api/v1/apps/a/source",
                    "{\"repo\": \"https://example.org/o/r.git\", \"branch\": \"main:refs/heads/main\"}");
            assertThat(refspec.statusCode()).as(refspec.body()).isEqualTo(400);
            assertThat(refspec.body()).contains("is not a branch name");

            // A source stored before the rule (or by any other way in) is refused where it is fetched.
            Path forge = forges.create("a.git");
            Path upstream = MayflyProcess.checkoutExample("hello", tmp.resolve("upstream"));
            MayflyProcess.setVersion(upstream, "a-from-forge");
            MayflyProcess.git(upstream, "add", "-A");
            MayflyProcess.git(upstream, "commit", "-q", "-m", "a's code");
            MayflyProcess.git(upstream, "push", "-q", forge.toString(), "HEAD:main");
            HttpResponse<String> set =
                    mayfly.api("PUT", "/api/v1/apps/a/source", "{\"repo\": \"" + forges.url("a.git") + "\"}");
            assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
            var db = io.mayfly.server.store.Database.sqlite(mayfly.data.resolve("mayfly.db"));
            db.useHandle(h -> h.execute("UPDATE app_sources SET repo_url = ? WHERE app = 'a'", bRepo));
            HttpResponse<String> stale = TokenMatrixTest.send(deployA, "POST", "/api/v1/apps/a/sync", "{}", mayfly);
            assertThat(stale.statusCode()).as(stale.body()).isEqualTo(400);
            assertThat(stale.body()).contains("cannot sync a: refusing to fetch", "is a path on the server");
            assertThat(lsRemote(mayfly, "a")).as("a holds none of b's commits").isEmpty();

            // A repository elsewhere works, for the deploy token too once an admin has set it.
            db.useHandle(h -> h.execute("UPDATE app_sources SET repo_url = ? WHERE app = 'a'", forges.url("a.git")));
            HttpResponse<String> fetched = TokenMatrixTest.send(deployA, "POST", "/api/v1/apps/a/sync", "{}", mayfly);
            assertThat(fetched.statusCode()).as(fetched.body()).isEqualTo(200);
            assertThat(lsRemote(mayfly, "a"))
                    .contains(MayflyProcess.git(upstream, "rev-parse", "HEAD")
                                    .out()
                                    .trim() + "\trefs/heads/main");
            assertThat(mayfly.cli("audit", "-a", "a").out()).contains("source", forges.url("a.git"));

            // The CLI refuses a local --repo before it makes the app.
            MayflyProcess.Result cli = mayfly.cli("apps:create", "c", "--repo", bRepo);
            assertThat(cli.exit()).isEqualTo(1);
            assertThat(cli.out()).contains("--repo: '" + bRepo + "' is a path on the server");
            assertThat(mayfly.api("GET", "/api/v1/apps/c", null).statusCode()).isEqualTo(404);
        }
    }

    private static String lsRemote(MayflyProcess mayfly, String app) throws Exception {
        MayflyProcess.Result r =
                MayflyProcess.run(mayfly.data, Map.of(), List.of("git", "ls-remote", mayfly.gitUrl(app)));
        assertThat(r.exit()).as(r.out()).isZero();
        return r.out().strip();
    }
}
