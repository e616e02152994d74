package io.mayfly.server.registry;

import io.mayfly.server.build.Provenance;
import io.mayfly.server.store.Builds;
import io.mayfly.wire.RegistryViews.ArtifactChange;
import io.mayfly.wire.RegistryViews.BuildRef;
import io.mayfly.wire.RegistryViews.CompareView;
import io.mayfly.wire.RegistryViews.FieldChange;
import io.mayfly.wire.RegistryViews.MapDiff;
import io.mayfly.wire.RegistryViews.ValueChange;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/** What differs between two builds' recorded inputs (provenance) and outputs (artifact hashes). */
final class ProvenanceDiff {
    private static final Provenance NONE = new Provenance(null, null, Map.of(), Map.of(), Map.of(), null, null);

    private ProvenanceDiff() {}

    static CompareView compare(Builds.Build left, String leftUrl, Builds.Build right, String rightUrl) {
        Provenance l = provenance(left);
        Provenance r = provenance(right);
        List<FieldChange> fields = List.of(
                field("source", l.source(), r.source()),
                field("osRelease", l.osRelease(), r.osRelease()),
                field("command", l.command(), r.command()),
                field("inputsDigest", l.inputsDigest(), r.inputsDigest()));
        Map<String, String> leftArtifacts = new TreeMap<>();
        left.artifacts().forEach(a -> leftArtifacts.put(a.name(), a.sha256()));
        Map<String, String> rightArtifacts = new TreeMap<>();
        right.artifacts().forEach(a -> rightArtifacts.put(a.name(), a.sha256()));
        List<ArtifactChange> artifacts = new ArrayList<>();
        for (String name : union(leftArtifacts, rightArtifacts)) {
            String a = leftArtifacts.get(name);
            String b = rightArtifacts.get(name);
            artifacts.add(new ArtifactChange(name, a, b, a != null && a.equals(b)));
        }
        boolean sameInputs = l.inputsDigest() != null && l.inputsDigest().equals(r.inputsDigest());
        return new CompareView(
                ref(left, leftUrl),
                ref(right, rightUrl),
                sameInputs,
                fields,
                diff(l.tools(), r.tools()),
                diff(l.packages(), r.packages()),
                diff(l.environment(), r.environment()),
                artifacts);
    }

    /** {@code added}: only the right build has it; {@code removed}: only the left one. */
    static MapDiff diff(Map<String, String> left, Map<String, String> right) {
        Map<String, String> added = new TreeMap<>();
        Map<String, String> removed = new TreeMap<>();
        Map<String, ValueChange> changed = new TreeMap<>();
        int unchanged = 0;
        for (String key : union(left, right)) {
            String a = left.get(key);
            String b = right.get(key);
            if (a == null) added.put(key, b);
            else if (b == null) removed.put(key, a);
            else if (!a.equals(b)) changed.put(key, new ValueChange(a, b));
            else unchanged++;
        }
        return new MapDiff(added, removed, changed, unchanged);
    }

    private static FieldChange field(String name, String left, String right) {
        return new FieldChange(name, left, right, Objects.equals(left, right));
    }

    private static BuildRef ref(Builds.Build b, String url) {
        return new BuildRef(b.app(), b.number(), b.status().name(), b.commitId(), url);
    }

    private static TreeSet<String> union(Map<String, String> a, Map<String, String> b) {
        TreeSet<String> keys = new TreeSet<>(a.keySet());
        keys.addAll(b.keySet());
        return keys;
    }

    /** A build that failed before its provenance was captured compares as one with no recorded facts. */
    private static Provenance provenance(Builds.Build build) {
        if (build.provenance() == null || build.provenance().isBlank()) return NONE;
        Provenance p = Provenance.fromJson(build.provenance());
        return new Provenance(
                p.source(),
                p.osRelease(),
                orEmpty(p.tools()),
                orEmpty(p.packages()),
                orEmpty(p.environment()),
                p.command(),
                p.inputsDigest());
    }

    private static Map<String, String> orEmpty(Map<String, String> map) {
        return map == null ? Map.of() : map;
    }
}
