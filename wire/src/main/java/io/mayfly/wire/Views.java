package io.mayfly.wire;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the REST API under {@code /api/v1} returns and accepts. The CLI reads exactly these records,
 * so a field added here is a field every client sees.
 */
public final class Views {
    private Views() {}

    /**
     * One app. {@code liveRelease} is 0 when nothing is live yet; {@code public} says whether anyone may read its
     * registry (builds, artifacts, signatures, consoles, provenance) without a token.
     */
    public record AppView(
            String name,
            String gitUrl,
            String url,
            int liveRelease,
            String liveSha256,
            Instant createdAt,
            Instant lastDeployAt,
            String lastDeployResult,
            @JsonProperty("public") boolean isPublic) {}

    /** A new app; {@code public} makes its registry readable without a token from the start. */
    public record CreateApp(
            String name, @JsonProperty("public") boolean isPublic) {}

    /** A change to an app: {@code public} turns its public registry on or off. */
    public record ChangeApp(@JsonProperty("public") Boolean isPublic) {}

    /** One immutable release vN. {@code phases} maps a phase name (build, store, boot, health, test, switch, drain) to milliseconds. */
    public record ReleaseView(
            String app,
            int version,
            int build,
            String artifact,
            String sha256,
            long size,
            String status,
            String reason,
            String description,
            Instant createdAt,
            Map<String, Long> phases) {}

    public record Rollback(Integer version) {}

    /** One build of an app: status is queued, running, succeeded or failed. */
    public record BuildView(
            String app,
            int number,
            String status,
            String commit,
            String source,
            String command,
            Integer exitCode,
            Instant startedAt,
            Long durationMs,
            List<ArtifactView> artifacts,
            String reason) {}

    public record ArtifactView(String name, String sha256, long size) {}

    /**
     * One running (or stopped) copy of a release; {@code host} names the remote agent running it, or is null for the
     * server's own; {@code residentBytes} its memory as its agent last measured it.
     */
    public record InstanceView(
            String id,
            String app,
            int release,
            String driver,
            String state,
            int port,
            long pid,
            Instant startedAt,
            int restarts,
            String host,
            long residentBytes) {}

    /** Server facts the CLI needs: where the API, the router and git live. */
    public record ServerInfo(String version, String apiUrl, String routerUrl, String domain) {}

    /** One driver on a host: whether it can run instances here (and why not, or with what), and how many it runs. */
    public record DriverView(String name, boolean available, String detail, int instances) {}

    /**
     * The answer to {@code POST /api/v1/drivers/{driver}/reprobe}: the hosts whose driver forgot what it learnt there
     * (the next boot learns it again) or will at their next heartbeat, and what it says now.
     */
    public record Reprobed(String driver, List<String> hosts, String detail) {}

    /** Every error body: what happened, and what to do about it. */
    public record ErrorView(int status, String error, String hint) {}
}
