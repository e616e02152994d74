package io.mayfly.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a config var may be: {@link AppConfig#check}, which every config change passes before anything is stored. */
class AppConfigLimitsTest {
    private static AppConfig.Invalid refused(Map<String, String> current, Map<String, String> changes) {
        AppConfig.Invalid e = catchThrowableOfType(AppConfig.Invalid.class, () -> AppConfig.check(current, changes));
        assertThat(e).as("%s must be refused", changes.keySet()).isNotNull();
        assertThat(e.hint()).isNotBlank();
        return e;
    }

    private static Map<String, String> set(String name, String value) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(name, value);
        return m;
    }

    @Test
    void namesMustBeEnvironmentVariableNames() {
        for (String name :
                new String[] {"", "1BAD", "A-B", "A=B", "A B", "GR\u00dcSS", "A\nB", "A\u0000", "a".repeat(129)}) {
            assertThat(refused(Map.of(), set(name, "x")).getMessage())
                    .contains("is not a valid config var name")
                    .doesNotContain("\n");
        }
        assertThatCode(() -> AppConfig.check(Map.of(), set("_a1", "x"))).doesNotThrowAnyException();
        assertThatCode(() -> AppConfig.check(Map.of(), set("A".repeat(128), "x")))
                .doesNotThrowAnyException();
    }

    @Test
    void aValueMustHoldNoNulAndAtMost32KiB() {
        assertThat(refused(Map.of(), set("GREETING", "hello\u0000world")).getMessage())
                .isEqualTo(
                        "the value of GREETING contains a NUL character (\\u0000), which an environment variable cannot hold");
        assertThat(refused(Map.of(), set("BIG", "x".repeat(32 * 1024 + 1))).getMessage())
                .isEqualTo("the value of BIG is 32769 bytes; a config value may be at most 32768 bytes (32 KiB)");
        // Bytes, not characters: 16,385 two-byte characters are one byte too many.
        assertThat(refused(Map.of(), set("BIG", "\u00e9".repeat(16 * 1024 + 1))).getMessage())
                .contains("is 32770 bytes");
        assertThatCode(() -> AppConfig.check(Map.of(), set("BIG", "x".repeat(32 * 1024))))
                .doesNotThrowAnyException();
        assertThatCode(() -> AppConfig.check(Map.of(), set("EMPTY", ""))).doesNotThrowAnyException();
    }

    @Test
    void anAppHoldsAtMost256Vars() {
        Map<String, String> current = new HashMap<>();
        for (int i = 0; i < AppConfig.MAX_VARS; i++) current.put("V" + i, "x");
        assertThat(refused(current, set("ONE_MORE", "x")).getMessage())
                .isEqualTo("this change would leave 257 config vars; an app may have at most 256");
        assertThatCode(() -> AppConfig.check(current, set("V1", "changed")))
                .as("changing one of them")
                .doesNotThrowAnyException();
        Map<String, String> swap = set("V1", null);
        swap.put("ONE_MORE", "x");
        assertThatCode(() -> AppConfig.check(current, swap))
                .as("unsetting one while setting another")
                .doesNotThrowAnyException();
    }

    @Test
    void theVarsTogetherAreAtMost256KiB() {
        Map<String, String> current = new HashMap<>();
        for (int i = 0; i < 8; i++)
            current.put("V" + i, "x".repeat(32 * 1024 - 2)); // 8 x (2 + 32766) bytes: exactly 256 KiB
        assertThatCode(() -> AppConfig.check(Map.of(), current)).doesNotThrowAnyException();
        assertThat(refused(current, set("W", "x")).getMessage())
                .startsWith("this change would make the config vars 262146 bytes in all")
                .contains("at most 262144 bytes");
        assertThatCode(() -> AppConfig.check(current, set("V0", null)))
                .as("unsetting brings it down")
                .doesNotThrowAnyException();
    }
}
