package io.mayfly.server.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.mayfly.server.http.ApiError;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The body of PATCH /api/v1/apps/{app}/config, as {@link ApiRoutes#configChanges} reads it. */
class ConfigChangeBodyTest {
    @Test
    void valuesSetVarsAndNullsUnsetThem() {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("GREETING", "hello");
        expected.put("OLD", null);
        expected.put("PORT_X", "8080");
        assertThat(ApiRoutes.configChanges("{\"GREETING\":\"hello\",\"OLD\":null,\"PORT_X\":8080}"))
                .containsExactlyEntriesOf(expected);
    }

    @Test
    void everyMalformedBodyIsAClientError() {
        for (String body : new String[] {
            "",
            "{",
            "null",
            "[]",
            "\"GREETING=x\"",
            "{\"A\":[\"x\"]}",
            "{\"A\":{\"b\":1}}",
            "[".repeat(100),
            "{\"A\":" + "9".repeat(100) + "}"
        }) {
            Throwable e = catchThrowable(() -> ApiRoutes.configChanges(body));
            assertThat(e).as(body).isNotNull();
            boolean clientError =
                    e instanceof ApiError api ? api.status() == 400 : e instanceof IllegalArgumentException;
            assertThat(clientError).as(body + ": " + e).isTrue();
            assertThat(e.getMessage()).isNotBlank();
        }
    }
}
