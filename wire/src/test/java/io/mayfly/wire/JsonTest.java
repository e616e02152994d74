package io.mayfly.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    private static String problem(String json, Class<?> type) {
        IllegalArgumentException e =
                catchThrowableOfType(IllegalArgumentException.class, () -> Json.readBody(json, type));
        assertThat(e)
                .as(json.length() > 80 ? json.substring(0, 80) + "..." : json)
                .isNotNull();
        return e.getMessage();
    }

    @Test
    void aStringUpToTheLimitIsReadAndOneCharacterMoreIsRefused() {
        String longest = "x".repeat(Json.MAX_STRING);
        assertThat(Json.read("{\"name\":\"" + longest + "\"}", Views.CreateApp.class)
                        .name())
                .hasSize(Json.MAX_STRING);
        assertThat(problem("{\"name\":\"" + longest + "x\"}", Views.CreateApp.class))
                .startsWith("not valid JSON for CreateApp")
                .contains("exceeds the maximum allowed (" + Json.MAX_STRING);
    }

    @Test
    void theLongestLegitimateStringsFitTheLimit() {
        // A manifest, a console chunk and a filled boot argument are each at most 64 KiB; a build's provenance a few
        // hundred KiB.
        AgentViews.Assignment a = new AgentViews.Assignment(
                "app",
                1,
                "#".repeat(64 * 1024),
                List.of("a".repeat(64 * 1024)),
                Map.of("BIG", "v".repeat(32 * 1024)),
                List.of(),
                1,
                false,
                false,
                null);
        assertThat(Json.read(
                                Json.write(new AgentViews.DesiredState("agent", 1, List.of(a))),
                                AgentViews.DesiredState.class)
                        .assignments())
                .containsExactly(a);
        String provenance = "{\"packages\":{" + "\"p\":\"1\",".repeat(40_000) + "\"q\":\"2\"}}";
        assertThat(Json.read(
                                Json.write(new AgentViews.BuildJobResult(0, null, 1, true, provenance)),
                                AgentViews.BuildJobResult.class)
                        .provenance())
                .isEqualTo(provenance);
    }

    @Test
    void nestingDeeperThanTheLimitIsRefused() {
        String deep = "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1);
        assertThat(problem(deep, JsonNode.class)).contains("nesting depth");
        String fits = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertThat(Json.readBody(fits, JsonNode.class).isArray()).isTrue();
    }

    @Test
    void aNumberWithMoreDigitsThanTheLimitIsRefused() {
        assertThat(problem("{\"version\":" + "9".repeat(Json.MAX_NUMBER + 1) + "}", Views.Rollback.class))
                .contains("Number value length");
        assertThat(problem("{\"version\":99999999999}", Views.Rollback.class))
                .contains("(version)")
                .contains("out of range");
    }

    @Test
    void aWrongTypeIsRefusedWithTheFieldAndPositionButAnUnknownFieldIsIgnored() {
        assertThat(Json.readBody("{\"name\":\"hello\",\"colour\":\"blue\"}", Views.CreateApp.class)
                        .name())
                .isEqualTo("hello");
        String message = problem("{\"name\":[1]}", Views.CreateApp.class);
        assertThat(message)
                .startsWith("not valid JSON for CreateApp at line 1, column 9 (name): ")
                .doesNotContain("io.mayfly")
                .doesNotContain("REDACTED");
        assertThat(problem("{\"drivers\":[\"process\"],\"capacityMb\":\"lots\"}", AgentViews.Registration.class))
                .contains("(capacityMb)");
    }

    @Test
    void aFractionOrAnEmptyStringWhereAWholeNumberBelongsIsRefusedNotRounded() {
        assertThat(problem("{\"version\":1.5}", Views.Rollback.class)).contains("(version)");
        assertThat(problem("{\"version\":\"\"}", Views.Rollback.class)).contains("(version)");
        assertThat(problem("{\"app\":\"a\",\"release\":1,\"port\":8080.9}", AgentViews.StagedTestRequest.class))
                .contains("(port)");
        assertThat(Json.readBody("{\"version\":3}", Views.Rollback.class).version())
                .isEqualTo(3);
    }

    @Test
    void aBodyOfNullOrWithNullsInsideAListOrMapIsRefused() {
        assertThat(problem("null", Views.CreateApp.class))
                .isEqualTo("not valid JSON for CreateApp: expected an object, got null");
        assertThat(problem("{\"app\":\"a\",\"release\":1,\"lines\":[\"ok\",null]}", AgentViews.DeployLines.class))
                .contains("(lines.[1])");
        assertThat(problem(
                        "{\"drivers\":[\"process\"],\"unavailable\":{\"qemu\":null}}", AgentViews.Registration.class))
                .contains("(unavailable.qemu)");
        // What the server stored itself may hold nulls; only bodies from outside are refused for them.
        assertThat(Json.read("{\"app\":\"a\",\"release\":1,\"lines\":[null]}", AgentViews.DeployLines.class)
                        .lines())
                .containsExactly((String) null);
    }

    @Test
    void malformedJsonIsAnIllegalArgumentSayingWhere() {
        assertThat(problem("{\"name\":", Views.CreateApp.class)).startsWith("not valid JSON for CreateApp at line 1");
        assertThat(problem("", Views.CreateApp.class)).startsWith("not valid JSON for CreateApp");
        assertThat(problem("{\"name\":\"a\nb\"}", Views.CreateApp.class)).doesNotContain("\n");
    }
}
