package io.mayfly.agent.driver.process;

import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;

import java.io.File;
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
 * would: inside a bubblewrap sandbox that sees only the artifact, its own pid/ipc/uts namespaces and no
 * capabilities, but the host's network, so the instance listens on 127.0.0.1:PORT of the host.
 *
 * <p>Instances are started in their own session and are not tied to the agent's life (no --die-with-parent):
 * they outlive an agent crash and a restarted agent re-adopts them with {@link #recover}. The console goes
 * straight to the log file, not through a pipe, so nothing breaks when the agent goes away.
 */
public final class ProcessDriver implements Driver {
    public static final String NAME = "process";
    private static final String LOG_PREFIX = "[mayfly] ";

    private final Path bwrap;
    private final Path prlimit;
    private final Path setsid;
    private final Path cgroupRoot;
    private volatile Availability availability;

    /** Uses bubblewrap, prlimit and setsid from /usr/bin where installed. */
    public ProcessDriver() {
        this(executable("/usr/bin/bwrap"), executable("/usr/bin/prlimit"), executable("/usr/bin/setsid"),
                Path.of("/sys/fs/cgroup"));
    }

    /** Any tool given as null is treated as not installed. */
    ProcessDriver(Path bwrap, Path prlimit, Path setsid, Path cgroupRoot) {
        this.bwrap = bwrap;
        this.prlimit = prlimit;
        this.setsid = setsid;
        this.cgroupRoot = cgroupRoot;
    }

    @Override
    public String name() { return NAME; }

    @Override
    public Availability availability() {
        Availability a = availability;
        if (a == null) {
            a = availability = probe();
        }
        return a;
    }

    /** Runs bubblewrap once with the namespaces an instance gets, so a host that forbids them is found early. */
    private Availability probe() {
        if (bwrap == null) {
            return Availability.yes("bubblewrap not found: instances run unsandboxed");
        }
        List<String> command = List.of(bwrap.toString(), "--ro-bind", "/", "/", "--unshare-pid", "--unshare-ipc",
                "--unshare-uts", "--proc", "/proc", "--dev", "/dev", "--new-session", "--cap-drop", "ALL",
                bwrap.toString(), "--version");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Availability.no("bubblewrap at " + bwrap + " did not finish a test run within 10 s");
            }
            if (p.exitValue() != 0) {
                return Availability.no("bubblewrap at " + bwrap + " cannot create a sandbox on this host (" + out
                        + "); the process driver needs pid, ipc and uts namespaces");
            }
            return Availability.yes(out + " at " + bwrap);
        } catch (IOException e) {
            return Availability.no("cannot run bubblewrap at " + bwrap + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Availability.no("interrupted while testing bubblewrap at " + bwrap);
        }
    }

    @Override
    public InstanceHandle start(InstanceSpec spec) throws DriverException {
        Availability available = availability();
        if (!available.available()) {
            throw new DriverException("the process driver cannot run " + spec.id() + " on this host: " + available.detail());
        }
        Path artifact = spec.artifact().toAbsolutePath();
        makeExecutable(artifact, spec);
        try {
            Files.createDirectories(spec.stateDir());
            Files.createDirectories(spec.logFile().toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new DriverException("cannot create the directories of instance " + spec.id() + " (" + spec.stateDir()
                    + "): " + e.getMessage(), e);
        }
        Map<String, String> env = new LinkedHashMap<>(spec.env());
        env.putIfAbsent("PORT", Integer.toString(spec.port()));

        List<String> warnings = new ArrayList<>();
        List<String> command = new ArrayList<>();
        if (setsid != null) {
            // Its own session and process group: a signal to the agent's group (Ctrl-C in a terminal) must not
            // reach the instance. setsid execs in place (our child is never a group leader), so the pid stays.
            command.add(setsid.toString());
        } else {
            warnings.add("setsid not found (util-linux): the instance shares the agent's process group, so a signal "
                    + "to the agent's terminal also reaches it");
        }
        Runnable afterStop = addMemoryLimit(spec, command, warnings);
        if (bwrap != null) {
            String inside = "/app/" + artifact.getFileName();
            command.addAll(List.of(bwrap.toString(),
                    "--ro-bind", artifact.toString(), inside,
                    "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                    "--hostname", spec.id(),
                    "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                    "--new-session", "--cap-drop", "ALL", "--clearenv"));
            env.forEach((k, v) -> command.addAll(List.of("--setenv", k, v)));
            command.addAll(List.of("--chdir", "/", inside));
        } else {
            warnings.add("bubblewrap not found: this instance runs unsandboxed, with the agent's view of the host's "
                    + "files and its privileges; install bubblewrap (apt-get install bubblewrap) to sandbox instances");
            command.add(artifact.toString());
        }
        command.addAll(spec.args());

        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(spec.logFile().toFile()))
                .directory(bwrap != null ? new File("/") : spec.stateDir().toFile());
        builder.environment().clear();
        if (bwrap == null) {
            builder.environment().putAll(env);
        }
        appendToLog(spec, warnings);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            afterStop.run();
            throw new DriverException("cannot start instance " + spec.id() + " (" + command.getFirst() + "): " + e.getMessage(), e);
        }
        long startTicks = ProcessStat.read(process.pid()).map(ProcessStat::startTicks).orElse(0L);
        InstanceState state = new InstanceState(spec.id(), spec.app(), spec.release(), NAME, process.pid(), startTicks,
                spec.port(), spec.logFile(), spec.stateDir(), Instant.now());
        ProcessInstanceHandle handle = ProcessInstanceHandle.started(state, process, bwrap != null, afterStop);
        try {
            InstanceStateFile.write(InstanceStateFile.in(spec.stateDir()), state);
        } catch (IOException e) {
            // An instance whose state is not on disk would be orphaned by the next agent restart.
            handle.stop(java.time.Duration.ZERO);
            throw new DriverException("cannot record the state of instance " + spec.id() + " in " + spec.stateDir()
                    + ": " + e.getMessage() + "; the instance was stopped", e);
        }
        return handle;
    }

    @Override
    public Optional<InstanceHandle> recover(InstanceState state) {
        if (!NAME.equals(state.driver()) || !ProcessStat.running(state.pid(), state.startTicks())) {
            return Optional.empty();
        }
        return ProcessHandle.of(state.pid()).map(p -> ProcessInstanceHandle.adopted(state, p, isBubblewrap(p),
                () -> removeCgroup(state.id())));
    }

    private static boolean isBubblewrap(ProcessHandle p) {
        return p.info().command().map(c -> Path.of(c).getFileName().toString().equals("bwrap")).orElse(false);
    }

    /**
     * Limits the instance's memory: RLIMIT_AS through prlimit (inherited by bubblewrap and the app; a static
     * unikernel's address space is close to its memory use), else a cgroup v2 memory.max, else nothing and
     * a warning. Returns what to clean up once the instance is gone.
     */
    private Runnable addMemoryLimit(InstanceSpec spec, List<String> command, List<String> warnings) {
        if (spec.memoryBytes() <= 0) {
            return () -> {};
        }
        if (prlimit != null) {
            command.addAll(List.of(prlimit.toString(), "--as=" + spec.memoryBytes(), "--"));
            return () -> {};
        }
        Optional<Path> cgroup = createCgroup(spec, warnings);
        if (cgroup.isPresent()) {
            // The shell moves itself into the cgroup, then execs the instance in place: no window without the limit.
            command.addAll(List.of("/bin/sh", "-c", "echo $$ > \"$0\" && exec \"$@\"", cgroup.get().resolve("cgroup.procs").toString()));
            return () -> removeCgroup(spec.id());
        }
        warnings.add("no memory limit: neither prlimit (util-linux) nor a writable cgroup v2 memory controller under "
                + cgroupRoot + " is available; the instance may use more than " + spec.memoryBytes() + " bytes");
        return () -> {};
    }

    private Optional<Path> createCgroup(InstanceSpec spec, List<String> warnings) {
        Path controllers = cgroupRoot.resolve("cgroup.controllers");
        try {
            if (!Files.isRegularFile(controllers) || !List.of(Files.readString(controllers).trim().split("\\s+")).contains("memory")) {
                return Optional.empty();
            }
            Path parent = cgroupRoot.resolve("mayfly");
            Files.createDirectories(parent);
            Files.writeString(cgroupRoot.resolve("cgroup.subtree_control"), "+memory");
            Files.writeString(parent.resolve("cgroup.subtree_control"), "+memory");
            Path cgroup = parent.resolve(spec.id());
            Files.createDirectories(cgroup);
            Files.writeString(cgroup.resolve("memory.max"), Long.toString(spec.memoryBytes()));
            return Optional.of(cgroup);
        } catch (IOException e) {
            warnings.add("cannot set up a memory cgroup under " + cgroupRoot + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    private void removeCgroup(String id) {
        try {
            // rmdir, not a recursive delete: a cgroup's files go away with its directory.
            Files.deleteIfExists(cgroupRoot.resolve("mayfly").resolve(id));
        } catch (IOException ignored) {
            // Not ours, or still populated: it does no harm and the next start uses a new id.
        }
    }

    private static void makeExecutable(Path artifact, InstanceSpec spec) throws DriverException {
        if (!Files.isRegularFile(artifact)) {
            throw new DriverException("the artifact of " + spec.app() + " v" + spec.release() + " is missing: " + artifact
                    + " is not a file");
        }
        if (Files.isExecutable(artifact)) {
            return;
        }
        // Blob stores keep bytes, not modes; the process driver needs the execute bit.
        try {
            Set<PosixFilePermission> mode = EnumSet.copyOf(Files.getPosixFilePermissions(artifact));
            mode.addAll(List.of(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_EXECUTE));
            Files.setPosixFilePermissions(artifact, mode);
        } catch (IOException | UnsupportedOperationException e) {
            throw new DriverException("the artifact " + artifact + " of " + spec.app() + " v" + spec.release()
                    + " is not executable and cannot be made so: " + e.getMessage(), e);
        }
    }

    private static void appendToLog(InstanceSpec spec, List<String> warnings) throws DriverException {
        if (warnings.isEmpty()) {
            return;
        }
        StringBuilder text = new StringBuilder();
        warnings.forEach(w -> text.append(LOG_PREFIX).append("warning: ").append(w).append('\n'));
        try {
            Files.writeString(spec.logFile(), text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new DriverException("cannot write the console log of instance " + spec.id() + " at " + spec.logFile()
                    + ": " + e.getMessage(), e);
        }
    }

    private static Path executable(String path) {
        Path p = Path.of(path);
        return Files.isExecutable(p) ? p : null;
    }
}
