package io.mayfly.wire.manifest;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The stored form of a manifest: what releases keep and agents receive, read back without parsing the TOML again. */
class StoredManifestTest {
    static final String FULL = """
            [build]
            command = "make"
            artifact = "hello.hvt"
            initrd = "initrd.img"
            host_paths = ["/usr/share/zoneinfo"]
            timeout = "20m"
            [run]
            driver = "solo5-hvt"
            args = ["--ipv4={ip}", "--greeting={config.GREETING}"]
            memory = "128M"
            instances = 2
            strategy = "rolling"
            drain_timeout = "5s"
            [health]
            console = "^listening on [0-9]+$"
            timeout = "30s"
            liveness = "1m"
            [test]
            command = "curl -fsS $MAYFLY_TEST_URL"
            """;

    @Test
    void aParsedManifestReadsBackEqualFromItsStoredForm() throws Exception {
        Manifest parsed = Manifest.parse("mayfly.toml", FULL);
        String stored = parsed.stored();
        assertThat(Manifest.fromStored(stored)).contains(parsed);
        assertThat(Manifest.fromStored(stored).orElseThrow().run().drainTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(Manifest.fromStored(Manifest.defaults("hello").stored())).contains(Manifest.defaults("hello"));
    }

    @Test
    void anotherVersionsFormNothingAndGarbageReadAsNoneSoTheTextIsParsedAgain() throws Exception {
        String stored = Manifest.parse("mayfly.toml", FULL).stored();
        assertThat(stored).startsWith("{\"v\":" + Manifest.STORED_VERSION + ",");
        assertThat(Manifest.fromStored(stored.replaceFirst("\"v\":" + Manifest.STORED_VERSION, "\"v\":" + (Manifest.STORED_VERSION + 1)))).isEmpty();
        assertThat(Manifest.fromStored(null)).isEmpty();
        assertThat(Manifest.fromStored("{\"v\":1}")).isEmpty();
        assertThat(Manifest.fromStored("[build]\ncommand = \"make\"")).isEmpty();
        assertThat(Manifest.fromStored("{\"v\":1,\"manifest\":")).isEmpty();
    }
}
