package io.mayfly.wire;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the registry's JSON endpoints return ({@code /api/v1/jobs}, {@code /api/v1/apps/APP/builds/N},
 * {@code /api/v1/hash}, {@code /api/v1/compare}, {@code /api/v1/signing-key}) and what a deploy of a stored build sends.
 */
public final class RegistryViews {
    private RegistryViews() {}

    /** One app (a "job") with its newest build and its newest successful one; null fields when there is none. */
    public record JobView(
            String app,
            Integer latestBuild,
            String latestStatus,
            Instant latestStartedAt,
            Integer latestSucceededBuild,
            String url) {}

    /**
     * One build with everything recorded about it. {@code mainArtifact} is the manifest's [build] artifact;
     * {@code provenance} is the recorded provenance as JSON; {@code reproducibility} is null until a rebuild ran;
     * {@code manifest} is the mayfly.toml the build ran with (what a pulling agent runs it with).
     */
    public record BuildDetail(
            String app,
            int number,
            String status,
            String source,
            String commit,
            String command,
            Integer exitCode,
            String reason,
            Instant startedAt,
            Long durationMs,
            String mainArtifact,
            List<ArtifactDetail> artifacts,
            JsonNode provenance,
            Verdict reproducibility,
            String url,
            String consoleUrl,
            String provenanceUrl,
            String manifest) {}

    /**
     * One stored artifact. {@code signature} is the base64 Ed25519 signature over the ASCII text
     * {@code sha256:HEX} of the artifact's bytes, made with the key at {@code /api/v1/signing-key}.
     */
    public record ArtifactDetail(
            String name, String sha256, long size, String url, String signature, String signatureUrl) {}

    /** The latest rebuild of a build: reproducible when every artifact hash matched, else the differences. */
    public record Verdict(int rebuild, boolean reproducible, String differences, Instant recordedAt) {}

    /** The server's signing key: {@code publicKey} is the X.509 (SubjectPublicKeyInfo) DER, base64; the fingerprint is sha256 over that DER. */
    public record SigningKeyView(String algorithm, String publicKey, String fingerprint, String signs) {}

    /** The builds that produced an artifact with this sha256. */
    public record HashView(String sha256, List<HashHit> builds) {}

    public record HashHit(
            String app, int build, String artifact, long size, String status, Instant startedAt, String url) {}

    /** Two builds' provenance side by side, and what differs. */
    public record CompareView(
            BuildRef left,
            BuildRef right,
            boolean sameInputs,
            List<FieldChange> fields,
            MapDiff tools,
            MapDiff packages,
            MapDiff environment,
            List<ArtifactChange> artifacts) {}

    public record BuildRef(String app, int build, String status, String commit, String url) {}

    /** A single-valued provenance field (source, osRelease, command, inputsDigest) and whether it differs. */
    public record FieldChange(String field, String left, String right, boolean same) {}

    /** A map of provenance facts (tools, packages, environment): what only one side has, what both have with different values. */
    public record MapDiff(
            Map<String, String> added, Map<String, String> removed, Map<String, ValueChange> changed, int unchanged) {}

    public record ValueChange(String left, String right) {}

    /** One artifact name; a null hash means that build has no artifact of that name. */
    public record ArtifactChange(String name, String left, String right, boolean same) {}

    /** Deploy a stored build: by number, or by the sha256 of one of its artifacts. Exactly one is set. */
    /** {@code strategy}: blue-green, rolling or immediate for this deploy only; null uses the build's mayfly.toml. */
    public record DeployBuild(Integer build, String sha256, String strategy) {
        public DeployBuild(Integer build, String sha256) {
            this(build, sha256, null);
        }
    }
}
