package io.mayfly.wire;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What a server and its remote agents say to each other: an agent registers, receives its desired state (the
 * releases it must run) as server-sent events, and reports what it runs and how each deploy ended.
 */
public final class AgentViews {
    private AgentViews() {}

    /**
     * {@code POST /api/v1/agents/{name}}: who the agent is and what it offers; {@code unavailable} says why each
     * driver it lacks cannot run there (what to install), for the error of a deploy no agent can take.
     */
    public record Registration(
            List<String> drivers,
            long capacityMb,
            String router,
            Map<String, String> unavailable,
            String version,
            int protocol) {
        public Registration(List<String> drivers, long capacityMb, String router) {
            this(drivers, capacityMb, router, Map.of(), Version.CURRENT, PROTOCOL);
        }
    }

    /**
     * The agent protocol this build speaks: a server accepts agents of any version that speak the same one, and
     * refuses others with the version to upgrade. Raised when a change to these records would break the other side
     * (an older agent sends no {@code protocol}: 0, taken as 1, the protocol before it was numbered).
     */
    public static final int PROTOCOL = 1;

    /** The answer to a registration: the key the agent checks every artifact's signature with. */
    public record Registered(String name, String signingKey, String signingKeyFingerprint, long heartbeatMillis) {}

    /** One artifact of an assigned release, fetched from {@code /api/v1/agents/{name}/blobs/{sha256}}. */
    public record AssignedArtifact(String name, String sha256, String signature) {}

    /**
     * A release the agent must run: the manifest as built, the boot arguments with config placeholders filled,
     * the config vars as environment, and how many instances. {@code deploying}: a push (or rollback, or scale)
     * waits for this release's report, so even an app scaled to zero boots once to prove it is healthy;
     * {@code test}: before switching, the agent asks the server to run the release's staged test against a new
     * instance ({@code POST /api/v1/agents/{name}/tests}). {@code spec}: the manifest as the server parsed and
     * checked it when the release was stored ({@link StoredManifest}); the agent parses the text {@code manifest} only
     * when the spec is in another Mayfly version's form (or missing, from a server before it).
     */
    public record Assignment(
            String app,
            int release,
            String manifest,
            List<String> args,
            Map<String, String> env,
            List<AssignedArtifact> artifacts,
            int instances,
            boolean deploying,
            boolean test,
            String spec) {}

    /**
     * {@code POST /api/v1/agents/{name}/tests}: a new instance of the release is healthy on this port of the agent's
     * host. {@code host}: the agent's address, set only by a server passing the request on to the one running the
     * deploy (the agent leaves it out: the server takes the address the request came from).
     */
    public record StagedTestRequest(String app, int release, int port, String host) {
        public StagedTestRequest(String app, int release, int port) {
            this(app, release, port, null);
        }
    }

    /** The answer: {@code failure} null when the staged test passed, else why it did not (the agent then keeps the old instances). */
    public record StagedTestResult(String failure) {}

    /** {@code POST /api/v1/agents/{name}/lines}: what a deploy says as it goes, shown in the push that waits for it. */
    public record DeployLines(String app, int release, List<String> lines) {}

    /**
     * Everything one agent must run; {@code generation} grows with every change the server makes. {@code declared}:
     * the apps its router must know even before they have a release (answering 503 rather than 404): every app, for a
     * server's embedded agent; none for a remote one.
     */
    public record DesiredState(String agent, long generation, List<Assignment> assignments, List<String> declared) {
        public DesiredState(String agent, long generation, List<Assignment> assignments) {
            this(agent, generation, assignments, List.of());
        }
    }

    /**
     * One instance on an agent. {@code watchedUntil}: the end of the liveness window it is in, as a new instance that must
     * stay up ({@code standby} false) or as one of the previous release standing by ({@code standby} true); null outside one.
     * {@code residentBytes}: its memory as last measured on its host (0 when not running).
     */
    public record InstanceReport(
            String id,
            String app,
            int release,
            String driver,
            boolean routed,
            boolean alive,
            int port,
            long pid,
            Instant startedAt,
            int restarts,
            Instant watchedUntil,
            boolean standby,
            long residentBytes) {}

    /**
     * How a deploy of an assignment ended on the agent, with the time each phase took (ms) and what it said along the way.
     * {@code rolledBackTo}: sent after a live report when the release failed in its liveness window, with the release
     * the agent moved the traffic back to (0 otherwise); the server then makes that one the live release again.
     */
    public record DeployReport(
            String app,
            int release,
            boolean live,
            String reason,
            Map<String, Long> phases,
            List<String> lines,
            int rolledBackTo) {
        public DeployReport(
                String app, int release, boolean live, String reason, Map<String, Long> phases, List<String> lines) {
            this(app, release, live, reason, phases, lines, 0);
        }
    }

    /**
     * {@code POST /api/v1/agents/{name}/status}: the heartbeat, with deploy results not yet acknowledged, what the
     * instances printed since the last acknowledged heartbeat, and what each driver says of the host now
     * ({@code drivers}: name to detail, e.g. whether QEMU uses KVM and why; for {@code mayfly drivers}), and the
     * agent's Mayfly version (null from agents older than it).
     */
    public record Status(
            List<InstanceReport> instances,
            List<DeployReport> deploys,
            List<ConsoleChunk> console,
            List<RequestTotals> requests,
            List<AppEvent> events,
            Map<String, String> drivers,
            String version) {
        public Status(
                List<InstanceReport> instances,
                List<DeployReport> deploys,
                List<ConsoleChunk> console,
                List<RequestTotals> requests,
                List<AppEvent> events) {
            this(instances, deploys, console, requests, events, Map.of(), Version.CURRENT);
        }
    }

    /**
     * The answer to a heartbeat: {@code reprobe} names the drivers that must forget what they learnt about the host
     * ({@code mayfly drivers --reprobe}), said once.
     */
    public record StatusAnswer(List<String> reprobe) {}

    /** Something the agent did to an app on its own (an idle stop, a wake-up, a crash restart), for the app's log. */
    public record AppEvent(String app, String line) {}

    /**
     * What the agent's router has served for one app since the agent started: requests and their summed latency.
     * The server turns the differences between heartbeats into the dashboard's rate and latency chart.
     */
    public record RequestTotals(String app, long count, double totalMs) {}

    /**
     * Bytes {@code offset} to {@code offset + length} of an instance's console log on the agent, as UTF-8 text cut at
     * a line end when it can be: the server mirrors each instance's log for {@code mayfly logs}, skipping what it
     * already has (a report whose answer was lost is sent again).
     */
    public record ConsoleChunk(String app, String instance, long offset, long length, String text) {}

    /** A host as {@code mayfly agents} shows it; {@code requests}: what its router served since the agent started. */
    public record AgentView(
            String name,
            String status,
            List<String> drivers,
            long capacityMb,
            long usedMb,
            String router,
            List<String> apps,
            int instances,
            Instant lastContact,
            long requests,
            String version) {}

    /**
     * A build a worker claimed: the command and its settings, the files it must leave (uploaded afterwards), and
     * how to restore the checkout from its zip (which keeps no file modes): the executable files and the symlinks.
     */
    public record BuildJob(
            String id,
            String app,
            String source,
            String command,
            boolean network,
            List<String> hostPaths,
            Map<String, String> env,
            long timeoutMillis,
            long maxLogBytes,
            List<String> outputs,
            List<String> executables,
            Map<String, String> symlinks) {}

    /** How a worker's build ended; {@code failure} null means the command succeeded. */
    public record BuildJobResult(
            Integer exitCode, String failure, long durationMillis, boolean sandboxed, String provenance) {}
}
