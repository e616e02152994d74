package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.mayfly.wire.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An attacker with nothing but a deploy token for one app (what a CI job holds), through git push, the registry and
 * an app of their own running as an instance: nothing they push can write the server's files, read its secrets or
 * another tenant's, reach the API or another instance, or exhaust the host; each attempt fails with a clear message
 * and changes nothing. (The API-side holes are covered by HostileInputTest, AppSourceTest, TokenMatrixTest,
 * RequestLimitsTest and DashboardLoginRedirectTest; the router's by RouterTimeoutsTest.)
 */
class HostileTenantTest {
    private static final Path GUEST =
            MayflyProcess.ROOT.resolve("agent/src/test/resources/io/mayfly/agent/driver/process/testserver.c");

    @TempDir
    Path tmp;

    @Test
    void aDeployTokenForOneAppCannotReachBeyondIt() throws Exception {
        Path data = tmp.resolve("data");
        try (MayflyProcess mayfly = new MayflyProcess(data)
                .serverOptions(
                        "--build-processes",
                        "64",
                        "--build-memory",
                        "256M",
                        "--build-disk",
                        "64M",
                        "--build-tmp",
                        "8M",
                        "--build-max-timeout",
                        "10m")
                .start()) {
            mayfly.cli("apps:create", "victim");
            mayfly.cli("apps:create", "evil");
            Path victim = MayflyProcess.checkoutExample("hello", tmp.resolve("victim"));
            MayflyProcess.Result victimPush = mayfly.push(victim, "victim", "v1");
            assertThat(victimPush.exit()).as(victimPush.out()).isZero();
            String token = token(mayfly, "evil", "deploy");
            String url = "http://ci:" + token + "@127.0.0.1:" + mayfly.apiPort + "/git/evil.git";
            Path repo = Files.createDirectories(tmp.resolve("evil"));
            MayflyProcess.git(repo, "init", "-q");
            List<String> seen = new ArrayList<>();

            // 1. A tree with a symlink d -> a host directory and a directory d/: refused before anything is written.
            Path outside = Files.createDirectories(tmp.resolve("host-dir"));
            String pushed = pushTree(repo, url, outside);
            assertThat(pushed).containsIgnoringCase("duplicate");
            assertThat(outside).isEmptyDirectory();
            seen.add("symlink/directory collision refused");

            // 2. host_paths naming the server's data directory: the build never starts.
            manifest(
                    repo,
                    "command = \"cat " + data + "/admin.token > loot\"\nartifact = \"loot\"\nhost_paths = [\"" + data
                            + "\"]");
            MayflyProcess.Result hostPath = push(repo, url, "host path");
            assertThat(hostPath.exit()).isNotZero();
            assertThat(hostPath.out())
                    .contains("host_paths asks for " + data, "does not share with builds", "--build-host-path");
            seen.add("data directory as a host path refused");

            // 3. The artifact a symlink the build made to the signing key: never read, never stored.
            manifest(repo, "command = \"ln -s " + data + "/signing-key loot\"\nartifact = \"loot\"");
            MayflyProcess.Result link = push(repo, url, "link");
            assertThat(link.exit()).isNotZero();
            assertThat(link.out()).contains("\"loot\" is a symbolic link");
            assertThat(Files.readString(data.resolve("signing-key"), StandardCharsets.ISO_8859_1))
                    .isNotEmpty();
            JsonNode builds = Json.MAPPER.readTree(
                    mayfly.api("GET", "/api/v1/apps/evil/builds", null).body());
            builds.forEach(b -> assertThat(b.path("artifacts").toString()).doesNotContain("loot\",\"sha256"));
            seen.add("symlinked artifact refused");

            // 4. Output without a newline: cut at the cap, the build stopped, the server fine.
            manifest(repo, "command = \"head -c 60000000 /dev/zero | tr '\\\\0' a\"\nartifact = \"x\"");
            MayflyProcess.Result flood = push(repo, url, "flood");
            assertThat(flood.out()).contains("output exceeded 10 MiB");
            assertThat(mayfly.api("GET", "/api/v1/info", null).statusCode()).isEqualTo(200);
            seen.add("output flood capped");

            // 5. The build's privileges and limits.
            manifest(
                    repo,
                    "command = \"id -u; grep -E 'CapEff|NoNewPrivs|Seccomp:' /proc/self/status; unshare -U true || true; "
                            + "for i in $(seq 1 200); do sleep 5 & done; exit 3\"\nartifact = \"x\"");
            MayflyProcess.Result forks = push(repo, url, "forks");
            assertThat(forks.out())
                    .contains(
                            "65534",
                            "CapEff:\t0000000000000000",
                            "NoNewPrivs:\t1",
                            "Seccomp:\t2",
                            "Operation not permitted",
                            "limit of 64 processes");
            manifest(repo, "command = \"head -c 100000000 /dev/zero > big; sleep 3\"\nartifact = \"big\"");
            assertThat(push(repo, url, "disk").out()).contains("build directory grew to", "past the 64 MiB");
            manifest(repo, "command = \"dd if=/dev/zero of=/tmp/big bs=1M count=32\"\nartifact = \"x\"");
            assertThat(push(repo, url, "tmp").out()).contains("No space left on device");
            manifest(repo, "command = \"true\"\nartifact = \"x\"\ntimeout = \"2h\"");
            assertThat(push(repo, url, "timeout").out()).contains("longer than this server allows");
            seen.add("build runs unprivileged within its limits");

            // 6. An instance of evil reaches neither the API nor victim's instance, and runs unprivileged.
            int victimPort = mayfly.instances("victim").getFirst().port();
            Files.copy(GUEST, repo.resolve("server.c"));
            Files.writeString(repo.resolve("mayfly.toml"), """
                    [build]
                    command = "gcc -O2 -static -o server server.c"
                    artifact = "server"

                    [run]
                    args = ["--connect", "%d", "--connect", "%d", "--whoami", "--unshare", "--port", "{port}"]
                    """.formatted(mayfly.apiPort, victimPort));
            MayflyProcess.Result probe = push(repo, url, "probe");
            assertThat(probe.exit()).as(probe.out()).isZero();
            String console = Eventually.until(
                    Duration.ofSeconds(20),
                    () -> mayfly.cli("logs", "-a", "evil", "-n", "200").out(),
                    out -> out.contains("unshare"),
                    "the probe's console in mayfly logs");
            assertThat(console)
                    .contains(
                            "connect " + mayfly.apiPort + " failed",
                            "connect " + victimPort + " failed",
                            "uid 65534",
                            "CapEff:\t0000000000000000",
                            "Seccomp:\t2",
                            "unshare failed: Operation not permitted");
            assertThat(mayfly.visit("victim", "/").statusCode()).isEqualTo(200);
            seen.add("instance isolated");

            // 7. An app destroyed and made again under its name starts clean: none of the old one's console, no token.
            assertThat(mayfly.cli("logs", "-a", "victim", "-n", "200").out()).contains("listening on");
            assertThat(mayfly.cli("apps:destroy", "victim", "--confirm", "victim")
                            .exit())
                    .isZero();
            assertThat(mayfly.cli("apps:create", "victim").exit()).isZero();
            assertThat(mayfly.cli("logs", "-a", "victim", "-n", "200").out())
                    .doesNotContain("listening on", "build #1");
            seen.add("a re-created app starts clean");
            assertThat(seen).hasSize(7);
        }
    }

    /** A commit whose root has both a symlink d (to {@code outside}) and a directory d/ with a file, pushed; the push's output. */
    private static String pushTree(Path repo, String url, Path outside) throws Exception {
        String manifest = hash(repo, "blob", "[build]\ncommand = \"true\"\nartifact = \"d/evil\"\n");
        String link = hash(repo, "blob", outside.toString());
        String evil = hash(repo, "blob", "written through the link\n");
        String sub = mktree(repo, "100644 blob " + evil + "\tevil\n");
        // git mktree sorts and would notice the duplicate: the tree is written literally, as an attacker's tool would.
        java.io.ByteArrayOutputStream tree = new java.io.ByteArrayOutputStream();
        entry(tree, "120000", "d", link);
        entry(tree, "40000", "d", sub);
        entry(tree, "100644", "mayfly.toml", manifest);
        Path raw = Files.write(repo.resolve("../tree.raw"), tree.toByteArray());
        String top = MayflyProcess.run(
                        repo,
                        Map.of(),
                        List.of("git", "hash-object", "-t", "tree", "-w", "--literally", raw.toString()))
                .out()
                .trim();
        String commit = MayflyProcess.git(repo, "commit-tree", top, "-m", "hostile")
                .out()
                .trim();
        return MayflyProcess.run(repo, Map.of(), List.of("git", "push", url, commit + ":refs/heads/main"))
                .out();
    }

    private static void entry(java.io.ByteArrayOutputStream out, String mode, String name, String sha) {
        out.writeBytes((mode + " " + name + "\0").getBytes(StandardCharsets.UTF_8));
        out.writeBytes(java.util.HexFormat.of().parseHex(sha));
    }

    private static String hash(Path repo, String type, String content) throws Exception {
        Path file = Files.writeString(repo.resolve("../object.tmp"), content);
        return MayflyProcess.run(repo, Map.of(), List.of("git", "hash-object", "-t", type, "-w", file.toString()))
                .out()
                .trim();
    }

    private static String mktree(Path repo, String entries) throws Exception {
        Path file = Files.writeString(repo.resolve("../tree.txt"), entries);
        return MayflyProcess.run(repo, Map.of(), List.of("sh", "-c", "git mktree < " + file))
                .out()
                .trim();
    }

    private static void manifest(Path repo, String build) throws Exception {
        Files.writeString(repo.resolve("mayfly.toml"), "[build]\n" + build + "\n");
    }

    private static MayflyProcess.Result push(Path repo, String url, String message) throws Exception {
        MayflyProcess.git(repo, "add", "-A");
        MayflyProcess.git(repo, "commit", "-q", "--allow-empty", "-m", message);
        return MayflyProcess.run(repo, Map.of(), List.of("git", "push", "-f", url, "HEAD:main"));
    }

    private static String token(MayflyProcess mayfly, String app, String scope) throws Exception {
        MayflyProcess.Result r = mayfly.cli("tokens:create", "--app", app, "--scope", scope);
        return r.out()
                .lines()
                .filter(l -> l.startsWith("mf_"))
                .findFirst()
                .orElseThrow(() -> new AssertionError(r.out()));
    }
}
