package io.mayfly.agent.artifacts;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactCacheTest {
    @TempDir
    Path dir;

    @Test
    void retainOnlyDeletesCachedArtifactsNotKeptAndLeavesDownloadsInProgress() throws Exception {
        ArtifactCache cache = new ArtifactCache(dir);
        String kept = "a".repeat(64);
        String dropped = "b".repeat(64);
        Files.write(dir.resolve(kept), new byte[100]);
        Files.write(dir.resolve(dropped), new byte[2048]);
        Path partial = Files.write(dir.resolve("download-123.partial"), new byte[10]);

        assertThat(cache.retainOnly(Set.of(kept))).isEqualTo(2048);
        assertThat(dir.resolve(kept)).exists();
        assertThat(dir.resolve(dropped)).doesNotExist();
        assertThat(partial)
                .as("a download in progress is not a cached artifact")
                .exists();
        assertThat(cache.retainOnly(Set.of(kept))).isZero();
    }
}
