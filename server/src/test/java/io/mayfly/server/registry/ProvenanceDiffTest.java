package io.mayfly.server.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.server.build.Provenance;
import io.mayfly.server.store.Builds;
import io.mayfly.wire.RegistryViews.CompareView;
import io.mayfly.wire.RegistryViews.ValueChange;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProvenanceDiffTest {
    private static Builds.Build build(int n, Provenance p, String sha) {
        return new Builds.Build(
                "hello",
                n,
                Builds.Status.succeeded,
                "git",
                "c" + n,
                null,
                "make",
                0,
                null,
                p == null ? null : p.toJson(),
                Instant.EPOCH,
                10L,
                List.of(new Builds.Artifact("hello", sha, 3)),
                null);
    }

    @Test
    void showsChangedPackagesToolsEnvironmentAndArtifactHashes() {
        Provenance left = new Provenance(
                "aaa",
                "Debian 13",
                Map.of("gcc", "14.2"),
                Map.of("libc6", "2.41", "make", "4.4"),
                Map.of("SOURCE_DATE_EPOCH", "1"),
                "make",
                "d1");
        Provenance right = new Provenance(
                "bbb",
                "Debian 13",
                Map.of("gcc", "14.2"),
                Map.of("libc6", "2.42", "zlib1g", "1.3"),
                Map.of("SOURCE_DATE_EPOCH", "2"),
                "make",
                "d2");
        CompareView c = ProvenanceDiff.compare(
                build(1, left, "11"), "/job/hello/build/1", build(2, right, "22"), "/job/hello/build/2");

        assertThat(c.sameInputs()).isFalse();
        assertThat(c.tools().changed()).isEmpty();
        assertThat(c.tools().unchanged()).isEqualTo(1);
        assertThat(c.packages().changed()).containsEntry("libc6", new ValueChange("2.41", "2.42"));
        assertThat(c.packages().added()).containsOnlyKeys("zlib1g");
        assertThat(c.packages().removed()).containsOnlyKeys("make");
        assertThat(c.environment().changed()).containsOnlyKeys("SOURCE_DATE_EPOCH");
        assertThat(c.fields()).filteredOn(f -> f.field().equals("osRelease")).allMatch(f -> f.same());
        assertThat(c.fields()).filteredOn(f -> f.field().equals("source")).noneMatch(f -> f.same());
        assertThat(c.artifacts()).singleElement().satisfies(a -> {
            assertThat(a.left()).isEqualTo("11");
            assertThat(a.right()).isEqualTo("22");
            assertThat(a.same()).isFalse();
        });
    }

    @Test
    void aBuildWithoutProvenanceComparesAsOneWithNoFacts() {
        Provenance right = new Provenance("bbb", "Debian 13", Map.of("gcc", "14.2"), Map.of(), Map.of(), "make", "d2");
        CompareView c = ProvenanceDiff.compare(build(1, null, "11"), "/a", build(2, right, "11"), "/b");
        assertThat(c.tools().added()).containsOnlyKeys("gcc");
        assertThat(c.artifacts())
                .singleElement()
                .satisfies(a -> assertThat(a.same()).isTrue());
    }
}
