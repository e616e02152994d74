package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.mayfly.wire.Json;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What an attacker sent, through the real server: each is a clear client error and changes nothing. */
class HostileInputTest {
    @TempDir
    Path tmp;

    @Test
    void malformedOrOversizedBodiesAre400sWithAMessageAndChangeNothing() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            assertThat(mayfly.cli("apps:create", "hostile").exit()).isZero();
            String config = "/api/v1/apps/hostile/config";
            List<String[]> requests = List.of(
                    new String[] {"PATCH", config, "{\"1BAD\":\"x\"}", "not a valid config var name"},
                    new String[] {"PATCH", config, "{\"A-B\":\"x\"}", "not a valid config var name"},
                    new String[] {"PATCH", config, "{\"GREETING\":\"a\\u0000b\"}", "NUL character"},
                    new String[] {
                        "PATCH", config, "{\"BIG\":\"" + "x".repeat(32 * 1024 + 1) + "\"}", "at most 32768 bytes"
                    },
                    new String[] {"PATCH", config, manyVars(257), "at most 256"},
                    new String[] {"PATCH", config, "{\"A\":[\"x\"]}", "a value is a string"},
                    new String[] {"PATCH", config, "{\"A\":", "not valid JSON"},
                    new String[] {"PATCH", config, "null", "a config change is a JSON object"},
                    new String[] {"PATCH", config, "[".repeat(1000), "not valid JSON"},
                    new String[] {"POST", "/api/v1/apps", "null", "expected an object"},
                    new String[] {"POST", "/api/v1/apps", "{\"name\":[1]}", "(name)"},
                    new String[] {"POST", "/api/v1/apps/hostile/rollback", "{\"version\":1.5}", "(version)"},
                    new String[] {
                        "POST", "/api/v1/apps/hostile/rollback", "{\"version\":18446744073709551617}", "(version)"
                    },
                    new String[] {"POST", "/api/v1/apps/hostile/rollback", "null", "expected an object"},
                    new String[] {"POST", "/api/v1/apps/hostile/scale", "{\"instances\":1.5}", "from 0 to 64"},
                    new String[] {
                        "POST", "/api/v1/apps/hostile/scale", "{\"instances\":18446744073709551617}", "from 0 to 64"
                    },
                    new String[] {
                        "POST",
                        "/api/v1/apps/hostile/lock",
                        "{\"reason\":\"" + "r".repeat(1001) + "\"}",
                        "at most 1000 characters"
                    },
                    new String[] {"POST", "/api/v1/apps/hostile/deploys", "{\"build\":\"one\"}", "(build)"},
                    new String[] {
                        "POST",
                        "/api/v1/tokens",
                        "{\"scope\":\"read\",\"app\":\"hostile\",\"expires\":\"99999999999999999999d\"}",
                        "expires takes a duration from 1m to 3650d"
                    });
            for (String[] r : requests) {
                HttpResponse<String> answer = mayfly.api(r[0], r[1], r[2]);
                String what = r[0] + " " + r[1] + " " + (r[2].length() > 60 ? r[2].substring(0, 60) + "..." : r[2]);
                assertThat(answer.statusCode())
                        .as(what + " -> " + answer.body())
                        .isEqualTo(400);
                JsonNode error = Json.read(answer.body(), JsonNode.class);
                assertThat(error.path("status").asInt()).isEqualTo(400);
                assertThat(error.path("error").asText()).as(what).contains(r[3]);
            }
            assertThat(mayfly.api("GET", config, null).body()).isEqualTo("{}");
            assertThat(mayfly.api("GET", "/api/v1/apps/hostile/audit", null).body())
                    .doesNotContain("lock");
            assertThat(mayfly.api("GET", "/api/v1/tokens", null).body()).doesNotContain("\"read\"");
            assertThat(mayfly.serverLog()).doesNotContain("internal error");
        }
    }

    @Test
    void aPushedManifestOverTheLimitOrWithABareMemoryFailsThePushNamingWhy() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            mayfly.cli("apps:create", "hostile");
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("hostile"));
            String manifest = Files.readString(repo.resolve("mayfly.toml"));

            Files.writeString(repo.resolve("mayfly.toml"), manifest.replaceAll("memory = \"[^\"]*\"", "memory = 64"));
            MayflyProcess.Result bare = mayfly.push(repo, "hostile", "memory without a unit");
            assertThat(bare.exit()).isNotZero();
            assertThat(bare.out()).containsPattern("mayfly\\.toml:\\d+: \\[run\\] memory: a size needs a unit");

            Files.writeString(repo.resolve("mayfly.toml"), manifest + "#" + "x".repeat(20 * 1024 * 1024) + "\n");
            MayflyProcess.Result huge = mayfly.push(repo, "hostile", "a 20 MB manifest");
            assertThat(huge.exit()).isNotZero();
            assertThat(huge.out()).contains("mayfly.toml: the file is").contains("at most 65536 bytes (64 KiB)");
            assertThat(mayfly.releases("hostile")).isEmpty();
        }
    }

    private static String manyVars(int n) {
        StringBuilder out = new StringBuilder("{");
        for (int i = 0; i < n; i++)
            out.append(i == 0 ? "" : ",").append("\"V").append(i).append("\":\"x\"");
        return out.append("}").toString();
    }
}
