package io.mayfly.wire.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@link Manifest#parse} on any text: a manifest whose every value is within the limits of its key, or a
 * {@link ManifestException} with a one-line message; never another exception. The seeds in
 * {@code ManifestFuzzTestInputs/} run with every build; {@code JAZZER_FUZZ=1} fuzzes (see docs/fuzzing.md).
 */
class ManifestFuzzTest {
    @FuzzTest(maxDuration = "5m")
    void anyTextIsAManifestWithinItsLimitsOrAManifestException(byte[] input) {
        Manifest m;
        try {
            m = Manifest.parse("mayfly.toml", new String(input, StandardCharsets.UTF_8));
        } catch (ManifestException e) {
            assertThat(e.getMessage())
                    .isNotBlank()
                    .doesNotContain("\n")
                    .doesNotContain("\r")
                    .startsWith("mayfly.toml");
            assertThat(e.expected()).isNotBlank();
            return;
        }
        withinLimits(m);
    }

    static void withinLimits(Manifest m) {
        Manifest.Build b = m.build();
        string("build", "command", b.command());
        string("build", "artifact", b.artifact());
        string("build", "initrd", b.initrd());
        strings("build", "host_paths", b.hostPaths());
        b.hostPaths().forEach(p -> assertThat(p).startsWith("/"));
        duration("build", "timeout", b.timeout());
        string("build", "schedule", b.schedule());
        if (b.command() != null) assertThat(b.artifact()).isNotNull();

        Manifest.Run r = m.run();
        assertThat(Manifest.DRIVERS).contains(r.driver());
        assertThat(Manifest.STRATEGIES).contains(r.strategy());
        strings("run", "args", r.args());
        number("run", "memory", r.memoryBytes());
        number("run", "vcpus", r.vcpus());
        number("run", "instances", r.instances());
        number("run", "guest_port", r.guestPort());
        duration("run", "drain_timeout", r.drainTimeout());
        if (r.idleStop() != null) duration("run", "idle_stop", r.idleStop());

        Manifest.Health h = m.health();
        string("health", "path", h.path());
        if (h.path() != null) assertThat(h.path()).startsWith("/").matches("[\\x21-\\x7e]+");
        string("health", "console", h.console());
        if (h.console() != null) Pattern.compile(h.console());
        assertThat((h.path() != null ? 1 : 0) + (h.tcp() ? 1 : 0) + (h.console() != null ? 1 : 0))
                .isLessThanOrEqualTo(1);
        number("health", "status", h.status());
        duration("health", "timeout", h.timeout());
        duration("health", "interval", h.interval());
        duration("health", "try_timeout", h.tryTimeout());

        string("test", "command", m.test().command());
        duration("test", "timeout", m.test().timeout());
    }

    private static void string(String table, String key, String value) {
        if (value == null) return;
        assertThat(value.length()).as("[%s] %s", table, key).isLessThanOrEqualTo((int)
                ManifestReader.key(table, key).max());
        assertThat(value).as("[%s] %s", table, key).doesNotContain("\0");
    }

    private static void strings(String table, String key, List<String> values) {
        assertThat(values)
                .as("[%s] %s", table, key)
                .hasSizeLessThanOrEqualTo(ManifestReader.key(table, key).items());
        values.forEach(v -> string(table, key, v));
    }

    private static void number(String table, String key, long value) {
        ManifestReader.Key k = ManifestReader.key(table, key);
        assertThat(value).as("[%s] %s", table, key).isBetween(k.min(), k.max());
    }

    private static void duration(String table, String key, Duration value) {
        number(table, key, value.toMillis());
    }
}
