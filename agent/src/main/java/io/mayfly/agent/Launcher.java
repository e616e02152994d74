package io.mayfly.agent;

import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.driver.Ports;
import io.mayfly.agent.router.Backend;
import io.mayfly.wire.ConfigCipher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts instances with the host's drivers and keeps beside each how it was started ({@code launch.json}), so that a
 * crashed instance can be started again the same way, even by a restarted agent that adopted it.
 */
final class Launcher {
    private static final Logger log =
            LoggerFactory.getLogger(Agent.class); // its lines read as the agent's, as they always did
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String LAUNCH = "launch.json";

    /**
     * What is kept beside each instance so that it can be restarted after a crash, even by a restarted agent. The
     * environment holds config vars, so it is stored only sealed; {@code request} is kept without it.
     */
    record Launch(StartRequest request, String sealedEnv, int restarts, int crashStreak) {}

    private final Map<String, Driver> drivers;
    private final InstanceDirs dirs;
    private final InstanceTable table;
    private final ConfigCipher secrets;

    Launcher(Map<String, Driver> drivers, InstanceDirs dirs, InstanceTable table, ConfigCipher secrets) {
        this.drivers = drivers;
        this.dirs = dirs;
        this.table = table;
        this.secrets = secrets;
    }

    /** Starts the request as a new instance, its slot's restart number {@code restarts}, after {@code crashStreak} crashes in a row. */
    Instance start(StartRequest req, int restarts, int crashStreak) throws DriverException {
        Driver driver = drivers.get(req.driver());
        if (driver == null) {
            throw new DriverException("no driver named '" + req.driver() + "' on this host; drivers here: "
                    + String.join(", ", drivers.keySet()));
        }
        Driver.Availability availability = driver.availability();
        if (!availability.available()) {
            throw new DriverException(
                    "the " + req.driver() + " driver cannot run on this host: " + availability.detail());
        }
        String id = req.app() + "-v" + req.release() + "-" + HexFormat.of().formatHex(randomBytes(3));
        Path stateDir = dirs.of(id);
        int port = Ports.freeLoopbackPort();
        Map<String, String> placeholders = new HashMap<>(
                Map.of("port", Integer.toString(port), "app", req.app(), "release", Integer.toString(req.release())));
        placeholders.keySet().removeAll(driver.ownPlaceholders());
        List<String> args = req.args().stream().map(a -> fill(a, placeholders)).toList();
        Map<String, String> env = new LinkedHashMap<>(req.env());
        env.put("PORT", Integer.toString(port));
        try {
            Files.createDirectories(stateDir);
        } catch (IOException e) {
            throw new DriverException("cannot create the instance directory " + stateDir + ": " + e.getMessage(), e);
        }
        InstanceSpec spec = new InstanceSpec(
                id,
                req.app(),
                req.release(),
                req.artifact(),
                req.initrd(),
                args,
                env,
                req.memoryBytes(),
                port,
                req.guestPort(),
                stateDir.resolve("console.log"),
                stateDir,
                req.stopGrace(),
                Math.max(1, req.vcpus()),
                req.run().network());
        try {
            StartRequest withoutEnv = req.withEnv(Map.of());
            InstanceStateFile.writeJson(
                    stateDir.resolve(LAUNCH), new Launch(withoutEnv, secrets.seal(req.env()), restarts, crashStreak));
        } catch (IOException e) {
            throw new DriverException(
                    "cannot record how instance " + id + " was started in " + stateDir + ": " + e.getMessage(), e);
        }
        long consoleFrom = InstanceDirs.sizeOf(spec.logFile());
        InstanceHandle handle = driver.start(spec);
        Instance instance = new Instance(
                id,
                req.app(),
                req.release(),
                driver.name(),
                handle,
                new Backend(id, "127.0.0.1", port),
                req,
                restarts,
                crashStreak,
                consoleFrom);
        table.add(instance);
        handle.exited().thenRun(() -> log.info("instance {} exited", id));
        return instance;
    }

    /** Starts the crashed instance's request again as a new instance, the next restart of its slot. */
    Instance restart(Instance crashed, int crashStreak) throws DriverException {
        return start(crashed.request(), crashed.restarts() + 1, crashStreak);
    }

    /**
     * The instance a restarted agent found still running in {@code stateDir}, with the request it was started from
     * (none if its launch file is missing or too old: then it is not restarted if it crashes). Adds it to the table.
     */
    Instance adopt(Path stateDir, InstanceState state, InstanceHandle handle) {
        Launch launch = readLaunch(stateDir);
        Instance instance = new Instance(
                state.id(),
                state.app(),
                state.release(),
                state.driver(),
                handle,
                new Backend(state.id(), "127.0.0.1", state.port()),
                launch == null ? null : unseal(launch),
                launch == null ? 0 : launch.restarts(),
                launch == null ? 0 : launch.crashStreak(),
                InstanceDirs.sizeOf(state.logFile()));
        table.add(instance);
        return instance;
    }

    private StartRequest unseal(Launch launch) {
        return launch.request().withEnv(secrets.open(launch.sealedEnv()));
    }

    private static Launch readLaunch(Path stateDir) {
        Path file = stateDir.resolve(LAUNCH);
        try {
            Launch launch = Files.exists(file) ? InstanceStateFile.readJson(file, Launch.class) : null;
            if (launch != null
                    && (launch.request() == null
                            || launch.request().run() == null
                            || launch.request().health() == null)) {
                log.warn(
                        "{} was written by an older agent without the release's settings; the instance will not be restarted if it crashes",
                        file);
                return null;
            }
            return launch;
        } catch (IOException e) {
            log.warn("cannot read {}: {}; the instance will not be restarted if it crashes", file, e.getMessage());
            return null;
        }
    }

    /** The template with each {@code {name}} of {@code values} replaced by its value; other braces stay as they are. */
    static String fill(String template, Map<String, String> values) {
        String out = template;
        for (var e : values.entrySet()) {
            out = out.replace("{" + e.getKey() + "}", e.getValue());
        }
        return out;
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
