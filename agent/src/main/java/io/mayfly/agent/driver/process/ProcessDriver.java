package io.mayfly.agent.driver.process;

import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.Guest;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.driver.ProcessStat;
import io.mayfly.sandbox.Network;
import io.mayfly.sandbox.Sandbox;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs a unikernel built as a static ELF (Solo5-spt, MirageOS-unix) as a process, the way a Nomad task driver
 * would: in the host's {@link Sandbox}, which sees only the artifact, runs as an unprivileged user with no
 * capabilities under seccomp, with the instance's memory as its control group's limit, and has a network namespace
 * of its own: the app listens on 127.0.0.1:PORT there, pasta forwards the host's 127.0.0.1:PORT to it, and it can
 * connect out but never to the host's loopback (the API, the router, another tenant's instance).
 *
 * <p>Instances are started in their own session and are not tied to the agent's life (no --die-with-parent):
 * they outlive an agent crash and a restarted agent re-adopts them with {@link #recover}. The console goes
 * straight to the log file, not through a pipe, so nothing breaks when the agent goes away. What the sandbox leaves
 * behind (pasta, the control group) is recorded beside the instance and removed when it ends, by whichever agent.
 */
public final class ProcessDriver implements Driver {
    public static final String NAME = "process";
    private static final String LOG_PREFIX = "[mayfly] ";
    /** What the sandbox leaves behind, beside the instance's state. */
    static final String LEFTOVERS = "sandbox-leftovers.json";
    /** A unikernel is one process; a few more for what a MirageOS-unix build forks. */
    private static final long PROCESSES = 64;

    private static final long TMP_BYTES = 64L << 20;

    private final Sandbox sandbox;
    private volatile Availability availability;

    /** The host's sandbox, its state (the seccomp program) in {@code stateDir}. */
    public ProcessDriver(Path stateDir) throws IOException {
        this(Sandbox.onThisHost(stateDir));
    }

    public ProcessDriver(Sandbox sandbox) {
        this.sandbox = sandbox;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Availability availability() {
        Availability a = availability;
        if (a == null) {
            a = availability = probe();
        }
        return a;
    }

    /**
     * Sets up a sandbox the way an instance gets one, with a command that does not exist in it: bubblewrap's "execvp"
     * error says the sandbox itself came up, so a host that forbids its namespaces is found before a deploy.
     */
    private Availability probe() {
        if (!sandbox.available()) {
            return Availability.yes("bubblewrap not found: instances run unsandboxed");
        }
        try {
            Path dir = Files.createTempDirectory("mayfly-probe");
            try {
                Sandbox.Spec spec = new Sandbox.Spec(
                        "probe-" + ProcessHandle.current().pid(),
                        false,
                        List.of(),
                        Network.NONE,
                        "probe",
                        Map.of(),
                        "/",
                        List.of("/mayfly-probe"),
                        Sandbox.Limits.NONE,
                        dir,
                        true);
                Sandbox.Running running = sandbox.prepare(spec).start(new ProcessBuilder().redirectErrorStream(true));
                String out =
                        new String(running.process().getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                running.process().waitFor(10, TimeUnit.SECONDS);
                running.cleanUp();
                if (!out.contains("execvp /mayfly-probe")) {
                    return Availability.no("the sandbox cannot be set up on this host (" + out
                            + "); the process driver needs " + "user, pid, ipc, uts and network namespaces");
                }
                return Availability.yes(sandbox.describe());
            } finally {
                deleteTree(dir);
            }
        } catch (IOException e) {
            return Availability.no("cannot run the sandbox: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Availability.no("interrupted while testing the sandbox");
        }
    }

    @Override
    public InstanceHandle start(InstanceSpec spec) throws DriverException {
        Availability available = availability();
        if (!available.available()) {
            throw new DriverException(
                    "the process driver cannot run " + spec.id() + " on this host: " + available.detail());
        }
        Path artifact = spec.artifact().toAbsolutePath();
        if (!sandbox.available()) makeExecutable(artifact, spec);
        try {
            Files.createDirectories(spec.stateDir());
            Files.createDirectories(spec.logFile().toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new DriverException(
                    "cannot create the directories of instance " + spec.id() + " (" + spec.stateDir() + "): "
                            + e.getMessage(),
                    e);
        }
        Map<String, String> env = new LinkedHashMap<>(spec.env());
        env.putIfAbsent("PORT", Integer.toString(spec.port()));
        String inside = "/app/" + artifact.getFileName();
        List<String> command = new ArrayList<>(List.of(sandbox.available() ? inside : artifact.toString()));
        command.addAll(spec.args());
        Network network = new Network(spec.network(), List.of(spec.port()), List.of());
        Sandbox.Spec sandboxed = new Sandbox.Spec(
                spec.id(),
                false,
                List.of(new Sandbox.Mount.Copied(artifact, inside, "0555")),
                network,
                spec.id(),
                env,
                "/",
                command,
                new Sandbox.Limits(spec.memoryBytes(), PROCESSES, TMP_BYTES, 0),
                spec.stateDir(),
                false);
        Sandbox.Running running;
        try {
            Sandbox.Prepared prepared = sandbox.prepare(sandboxed);
            appendToLog(spec, prepared.warnings());
            ProcessBuilder builder = new ProcessBuilder()
                    .redirectErrorStream(true)
                    .redirectOutput(
                            ProcessBuilder.Redirect.appendTo(spec.logFile().toFile()))
                    .directory(spec.stateDir().toFile());
            builder.environment().clear();
            if (!prepared.sandboxed()) builder.environment().putAll(env);
            running = prepared.start(builder);
        } catch (IOException e) {
            throw new DriverException("cannot start instance " + spec.id() + ": " + e.getMessage(), e);
        }
        Process process = running.process();
        Sandbox.Leftovers leftovers = running.leftovers();
        long startTicks =
                ProcessStat.read(process.pid()).map(ProcessStat::startTicks).orElse(0L);
        InstanceState state = new InstanceState(
                spec.id(),
                spec.app(),
                spec.release(),
                NAME,
                process.pid(),
                startTicks,
                spec.port(),
                spec.logFile(),
                spec.stateDir(),
                Instant.now());
        Guest guest;
        try {
            // In a network of its own, behind pasta: the guest's sockets are seen in its namespace, not on the host's
            // port.
            guest = leftovers.pastaPid() > 0
                    ? Guest.inNamespace(spec.port(), running.sandboxPid())
                    : Guest.onLoopback(spec.port());
        } catch (IOException e) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            running.cleanUp();
            throw new DriverException("cannot start instance " + spec.id() + ": " + e.getMessage(), e);
        }
        ProcessInstanceHandle handle = ProcessInstanceHandle.started(
                state, process, sandbox.available(), guest, afterExit(spec.logFile(), leftovers, running::limitHit));
        try {
            InstanceStateFile.writeJson(spec.stateDir().resolve(LEFTOVERS), leftovers);
            InstanceStateFile.write(InstanceStateFile.in(spec.stateDir()), state);
        } catch (IOException e) {
            // An instance whose state is not on disk would be orphaned by the next agent restart.
            handle.stop(java.time.Duration.ZERO);
            throw new DriverException(
                    "cannot record the state of instance " + spec.id() + " in " + spec.stateDir() + ": "
                            + e.getMessage() + "; the instance was stopped",
                    e);
        }
        return handle;
    }

    @Override
    public Optional<InstanceHandle> recover(InstanceState state) {
        if (!NAME.equals(state.driver())) return Optional.empty();
        Sandbox.Leftovers leftovers = readLeftovers(state.stateDir());
        if (!ProcessStat.running(state.pid(), state.startTicks())) {
            leftovers.release(); // it ended while no agent ran: its pasta still holds the port
            return Optional.empty();
        }
        Guest guest = leftovers.pastaPid() > 0
                ? Sandbox.recordedPid(state.stateDir())
                        .map(pid -> Guest.inNamespace(state.port(), pid))
                        .orElse(Guest.onLoopback(state.port()))
                : Guest.onLoopback(state.port());
        return ProcessHandle.of(state.pid())
                .map(p -> ProcessInstanceHandle.adopted(
                        state, p, isBubblewrap(p), guest, afterExit(state.logFile(), leftovers, Optional::empty)));
    }

    /** Once the instance ended: says in its console which limit stopped it, if one did, and releases the leftovers. */
    private static Runnable afterExit(
            Path log, Sandbox.Leftovers leftovers, java.util.function.Supplier<Optional<String>> limitHit) {
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        return () -> {
            if (!done.compareAndSet(false, true)) return;
            limitHit.get().ifPresent(hit -> {
                try {
                    Files.writeString(
                            log,
                            LOG_PREFIX + "the instance stopped: " + hit + "\n",
                            StandardOpenOption.CREATE,
                            StandardOpenOption.APPEND);
                } catch (IOException ignored) {
                    // the console is the only place to say it; the exit code stays in the agent's events
                }
            });
            // Off the exit's path: whoever waits for the instance's end (a health check) must not wait for pasta's.
            Thread.ofVirtual().name("release-" + log.getParent().getFileName()).start(leftovers::release);
        };
    }

    private static Sandbox.Leftovers readLeftovers(Path stateDir) {
        Path file = stateDir.resolve(LEFTOVERS);
        try {
            return Files.exists(file)
                    ? InstanceStateFile.readJson(file, Sandbox.Leftovers.class)
                    : new Sandbox.Leftovers(0, 0, List.of());
        } catch (IOException e) {
            return new Sandbox.Leftovers(0, 0, List.of());
        }
    }

    private static boolean isBubblewrap(ProcessHandle p) {
        return p.info()
                .command()
                .map(c -> Path.of(c).getFileName().toString().equals("bwrap"))
                .orElse(false);
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a probe's scratch directory in /tmp
        }
    }

    private static void makeExecutable(Path artifact, InstanceSpec spec) throws DriverException {
        if (!Files.isRegularFile(artifact)) {
            throw new DriverException("the artifact of " + spec.app() + " v" + spec.release() + " is missing: "
                    + artifact + " is not a file");
        }
        if (Files.isExecutable(artifact)) {
            return;
        }
        // Blob stores keep bytes, not modes; the process driver needs the execute bit.
        try {
            Set<PosixFilePermission> mode = EnumSet.copyOf(Files.getPosixFilePermissions(artifact));
            mode.addAll(List.of(
                    PosixFilePermission.OWNER_EXECUTE,
                    PosixFilePermission.GROUP_EXECUTE,
                    PosixFilePermission.OTHERS_EXECUTE));
            Files.setPosixFilePermissions(artifact, mode);
        } catch (IOException | UnsupportedOperationException e) {
            throw new DriverException(
                    "the artifact " + artifact + " of " + spec.app() + " v" + spec.release()
                            + " is not executable and cannot be made so: " + e.getMessage(),
                    e);
        }
    }

    private static void appendToLog(InstanceSpec spec, List<String> warnings) throws DriverException {
        if (warnings.isEmpty()) {
            return;
        }
        StringBuilder text = new StringBuilder();
        warnings.forEach(
                w -> text.append(LOG_PREFIX).append("warning: ").append(w).append('\n'));
        try {
            Files.writeString(spec.logFile(), text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new DriverException(
                    "cannot write the console log of instance " + spec.id() + " at " + spec.logFile() + ": "
                            + e.getMessage(),
                    e);
        }
    }
}
