package io.mayfly.agent;

import io.mayfly.wire.manifest.Manifest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What to run: a verified artifact, and the release's {@code [run]} and {@code [health]} settings exactly as the
 * manifest reader made them (one typed spec from mayfly.toml to the driver and the health check, so that no setting
 * is parsed and then dropped). {@code args} are the release's boot arguments with config placeholders filled; they
 * may still hold {port}, {app}, {release}, which the agent fills in at start. The agent keeps the request beside the
 * instance so that it can restart the instance the same way after a crash.
 */
public record StartRequest(
        String app,
        int release,
        Path artifact,
        Path initrd,
        List<String> args,
        Map<String, String> env,
        Manifest.Run run,
        Manifest.Health health,
        Duration stopGrace) {
    /** How long an instance gets between the request to stop and being killed. */
    public static final Duration STOP_GRACE = Duration.ofSeconds(10);

    /** The request for release {@code release} of {@code app}, booting {@code image} (and {@code initrd}). */
    public static StartRequest of(
            String app,
            int release,
            Manifest manifest,
            Path image,
            Path initrd,
            List<String> args,
            Map<String, String> env) {
        return new StartRequest(
                app,
                release,
                image,
                initrd,
                List.copyOf(args),
                Map.copyOf(env),
                manifest.run(),
                manifest.health(),
                STOP_GRACE);
    }

    public String driver() {
        return run.driver();
    }

    public long memoryBytes() {
        return run.memoryBytes();
    }

    public int vcpus() {
        return run.vcpus();
    }

    public int guestPort() {
        return run.guestPort();
    }

    /** The same request without its environment (config vars), which is kept only sealed. */
    public StartRequest withEnv(Map<String, String> env) {
        return new StartRequest(app, release, artifact, initrd, args, env, run, health, stopGrace);
    }
}
