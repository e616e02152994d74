package io.mayfly.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import io.mayfly.server.http.ApiError;
import io.mayfly.server.store.AppConfig;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Json;
import io.mayfly.wire.RegistryViews;
import io.mayfly.wire.Views;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Every JSON body the API reads, read as its route reads it (the same mapper, the same checks): a value, or a
 * client error (an {@link ApiError} 4xx, or an IllegalArgumentException, which the API answers with 400); never
 * another exception, which would be a 500. An input is {@code NAME\nBODY}, NAME one of {@link #BODIES}. The seeds
 * in {@code RequestBodyFuzzTestInputs/} run with every build; {@code JAZZER_FUZZ=1} fuzzes (see docs/fuzzing.md).
 */
class RequestBodyFuzzTest {
    private static final Map<String, Consumer<String>> BODIES = new LinkedHashMap<>();

    static {
        BODIES.put("CreateApp", b -> Json.readBody(b, Views.CreateApp.class)); // POST /api/v1/apps
        BODIES.put("Rollback", b -> Json.readBody(b, Views.Rollback.class)); // POST .../rollback
        BODIES.put(
                "config",
                b -> { // PATCH .../config
                    Map<String, String> changes = ApiRoutes.configChanges(b);
                    AppConfig.check(Map.of(), changes);
                    changes.forEach((name, value) -> {
                        assertThat(name).matches("[A-Za-z_][A-Za-z0-9_]{0,127}");
                        if (value != null)
                            assertThat(value).doesNotContain("\0").hasSizeLessThanOrEqualTo(AppConfig.MAX_VALUE_BYTES);
                    });
                });
        BODIES.put("lock", b -> Json.readBody(b, JsonNode.class).path("reason").asText("")); // POST .../lock
        BODIES.put(
                "scale", b -> Json.readBody(b, JsonNode.class).path("instances").canConvertToInt()); // POST .../scale
        BODIES.put(
                "token",
                b -> { // POST /api/v1/tokens
                    JsonNode body = Json.readBody(b, JsonNode.class);
                    if (body.hasNonNull("expires"))
                        assertThat(TokenRoutes.duration(body.path("expires").asText()))
                                .isBetween(Duration.ofMinutes(1), Duration.ofDays(3650));
                });
        BODIES.put(
                "source",
                b -> Json.readBody(b, JsonNode.class).path("repo").asText("")); // PUT .../source, POST .../sync, hooks
        BODIES.put("DeployBuild", b -> Json.readBody(b, RegistryViews.DeployBuild.class)); // POST .../deploys
        BODIES.put("Registration", b -> Json.readBody(b, AgentViews.Registration.class)); // the agent routes
        BODIES.put("Status", b -> Json.readBody(b, AgentViews.Status.class));
        BODIES.put("DeployLines", b -> Json.readBody(b, AgentViews.DeployLines.class));
        BODIES.put("StagedTestRequest", b -> Json.readBody(b, AgentViews.StagedTestRequest.class));
        BODIES.put("BuildJobResult", b -> Json.readBody(b, AgentViews.BuildJobResult.class));
    }

    private static final List<String> NAMES = List.copyOf(BODIES.keySet());

    @FuzzTest(maxDuration = "5m")
    void everyBodyIsAValueOrAClientError(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        int newline = text.indexOf('\n');
        String name = newline < 0 ? "" : text.substring(0, newline);
        String body = newline < 0 ? text : text.substring(newline + 1);
        Consumer<String> read =
                BODIES.getOrDefault(name, BODIES.get(NAMES.get(Math.floorMod(name.hashCode(), NAMES.size()))));
        try {
            read.accept(body);
        } catch (ApiError e) {
            assertThat(e.status()).isBetween(400, 499);
            assertThat(e.getMessage()).isNotBlank();
        } catch (IllegalArgumentException e) {
            assertThat(e.getMessage()).isNotBlank();
        }
    }
}
