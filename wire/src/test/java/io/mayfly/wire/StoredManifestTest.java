package io.mayfly.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.wire.manifest.Manifest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

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
        String stored = StoredManifest.write(parsed);
        assertThat(StoredManifest.read(stored)).contains(parsed);
        assertThat(StoredManifest.read(stored).orElseThrow().run().drainTimeout())
                .isEqualTo(Duration.ofSeconds(5));
        assertThat(StoredManifest.read(StoredManifest.write(Manifest.defaults("hello"))))
                .contains(Manifest.defaults("hello"));
    }

    @Test
    void anotherVersionsFormNothingAndGarbageReadAsNoneSoTheTextIsParsedAgain() throws Exception {
        String stored = StoredManifest.write(Manifest.parse("mayfly.toml", FULL));
        assertThat(stored).startsWith("{\"v\":" + StoredManifest.VERSION + ",");
        assertThat(StoredManifest.read(stored.replaceFirst(
                        "\"v\":" + StoredManifest.VERSION, "\"v\":" + (StoredManifest.VERSION + 1))))
                .isEmpty();
        assertThat(StoredManifest.read(null)).isEmpty();
        assertThat(StoredManifest.read("{\"v\":1}")).isEmpty();
        assertThat(StoredManifest.read("{\"v\":1,\"manifest\":{}}"))
                .as("every part missing")
                .isEmpty();
        assertThat(StoredManifest.read(stored.replaceFirst("\"run\":\\{", "\"run\":null,\"x\":{")))
                .as("a part missing")
                .isEmpty();
        assertThat(StoredManifest.read("[build]\ncommand = \"make\"")).isEmpty();
        assertThat(StoredManifest.read("{\"v\":1,\"manifest\":")).isEmpty();
    }
}
