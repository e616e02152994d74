package io.mayfly.sandbox;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where code a tenant wrote runs on this host: a build command, a staged test, a {@code process} instance. One
 * bubblewrap sandbox, the same for all of them:
 * <ul>
 *   <li>its own pid, ipc, uts, cgroup and network namespaces: the host's loopback (API, router, other instances) is
 *       out of reach, and what it may reach is said by its {@link Network}, given by pasta;</li>
 *   <li>an unprivileged user ({@value #NOBODY} when this process is root) with no capabilities,
 *       {@code no_new_privs}, and the {@link SeccompFilter};</li>
 *   <li>a control group with a memory and a process limit ({@link Cgroup}), rlimits as the floor where there is
 *       none, and a limit on the size of any file it writes;</li>
 *   <li>a size-limited {@code /tmp}, and of the host only what the spec mounts.</li>
 * </ul>
 *
 * <p>As root, privileges are dropped in one of two ways. A sandbox that sees the host's system directories (a build)
 * is set up by root, so that its mounts may come from directories only root can traverse, and becomes
 * {@value #NOBODY} with {@code setpriv} as its first step inside. A sandbox that sees nothing of the host (an
 * instance) drops before bubblewrap, which then runs unprivileged in a user namespace of its own, and its files come
 * in through descriptors root opened ({@link Mount.Copied}). Not as root, the sandbox runs as this process's user in a
 * user namespace.
 */
public final class Sandbox {
    /** The user every sandboxed process runs as when Mayfly runs as root. */
    public static final int NOBODY = 65534;

    private static final List<String> SYSTEM_DIRS =
            List.of("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc");
    /** Descriptors the first process opens for bubblewrap: single digits, all that /bin/sh's redirections take. */
    private static final int SECCOMP_FD = 3, INFO_FD = 4, FIRST_FILE_FD = 5, LAST_FILE_FD = 9;
    /** How long the sandbox's first process and then pasta may take to come up before the start is abandoned. */
    private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(10);

    /** Memory, processes, the size of /tmp and of the largest file a sandbox may write; 0 means no limit. */
    public record Limits(long memoryBytes, long processes, long tmpBytes, long fileBytes) {
        public static final Limits NONE = new Limits(0, 0, 0, 0);
    }

    /** What the sandboxed command sees of the host, besides /proc, /dev and /tmp. */
    public sealed interface Mount {
        /** Where the sandbox sees it. */
        String inside();

        /** A host directory or file, read-only. */
        record ReadOnly(Path host, String inside) implements Mount {}

        /** A host directory the command may write, e.g. a build's checkout. */
        record Writable(Path host, String inside) implements Mount {}

        /** A host file copied into the sandbox through a descriptor, with the given octal mode (e.g. "0555"). */
        record Copied(Path host, String inside, String mode) implements Mount {}
    }

    /**
     * One sandboxed command.
     *
     * @param id            names the control group, e.g. an instance id or {@code build-hello-3-a1b2}
     * @param hostSystem    whether the host's /usr, /lib*, /bin, /sbin and /etc are visible, read-only (builds)
     * @param runDir        where the sandbox keeps what describes it while it runs (its pid, pasta's log)
     * @param dieWithParent whether the sandbox ends with the process that started it (builds); if not (instances), it
     *                      is started in a session of its own, so that signals to the agent's terminal do not reach it
     */
    public record Spec(
            String id,
            boolean hostSystem,
            List<Mount> mounts,
            Network network,
            String hostname,
            Map<String, String> env,
            String workDir,
            List<String> command,
            Limits limits,
            Path runDir,
            boolean dieWithParent) {}

    private final Path bwrap;
    private final Path prlimit;
    private final Path setpriv;
    private final Path setsid = executable("/usr/bin/setsid");
    private final Path cgroupRoot;
    private final Path seccomp;
    private final Pasta pasta;
    private final boolean root;

    /**
     * The tools of this host (bubblewrap, prlimit, setpriv and pasta from /usr/bin; cgroups under /sys/fs/cgroup); the
     * seccomp program is written into {@code stateDir}.
     */
    public static Sandbox onThisHost(Path stateDir) throws IOException {
        boolean root = isRoot();
        return new Sandbox(
                executable("/usr/bin/bwrap"),
                executable("/usr/bin/prlimit"),
                executable("/usr/bin/setpriv"),
                Pasta.onThisHost(root),
                Path.of("/sys/fs/cgroup"),
                stateDir,
                root);
    }

    /** Any tool given as null is treated as not installed (tests, and hosts that keep them elsewhere). */
    public Sandbox(Path bwrap, Path prlimit, Path setpriv, Pasta pasta, Path cgroupRoot, Path stateDir, boolean root)
            throws IOException {
        this.bwrap = bwrap;
        this.prlimit = prlimit;
        this.setpriv = setpriv;
        this.pasta = pasta;
        this.cgroupRoot = cgroupRoot;
        this.root = root;
        byte[] program = SeccompFilter.forThisMachine();
        this.seccomp = program == null ? null : writeOnce(stateDir.resolve("seccomp.bpf"), program);
    }

    /** Whether bubblewrap is installed; without it commands run as plain processes, with limits but no isolation. */
    public boolean available() {
        return bwrap != null;
    }

    /** Whether sandboxed processes run as {@value #NOBODY} (this process is root) rather than as this process's user. */
    public boolean dropsToNobody() {
        return root && setpriv != null;
    }

    /** What is missing on this host for a full sandbox, one line each; empty when nothing is. */
    public List<String> shortcomings() {
        List<String> missing = new ArrayList<>();
        if (bwrap == null)
            missing.add(
                    "bubblewrap not found: commands run unsandboxed, as plain processes (apt-get install bubblewrap)");
        if (root && setpriv == null)
            missing.add("setpriv not found (util-linux): sandboxed commands keep running as root");
        if (bwrap != null && pasta == null) {
            missing.add(
                    "pasta not found: a sandbox that needs a network shares the host's, loopback included (apt-get install passt)");
        }
        if (seccomp == null)
            missing.add("no seccomp filter: only x86-64 is described, this is " + System.getProperty("os.arch"));
        return missing;
    }

    /** A one-line description for {@code mayfly drivers} and build logs. */
    public String describe() {
        if (bwrap == null) return "no sandbox (bubblewrap not found)";
        return "bubblewrap" + (dropsToNobody() ? " as uid " + NOBODY : "") + (seccomp != null ? ", seccomp" : "")
                + (pasta != null ? ", own network (pasta)" : ", host network (no pasta)");
    }

    /** The command line for the spec, with its control group created; {@link Prepared#start} runs it. */
    public Prepared prepare(Spec spec) throws IOException {
        Files.createDirectories(spec.runDir());
        List<String> warnings = new ArrayList<>(shortcomings());
        Limits limits = spec.limits();
        Optional<Cgroup> cgroup =
                Cgroup.create(cgroupRoot, spec.id(), limits.memoryBytes(), limits.processes(), warnings);
        boolean viaPasta = bwrap != null && pasta != null && spec.network().joined();
        boolean hostNetwork = spec.network().joined() && !viaPasta;
        List<String> fds = new ArrayList<>();
        List<String> command = new ArrayList<>();

        // rlimits: the floor where there is no control group (coarser: RLIMIT_AS counts address space, not memory, and
        // RLIMIT_NPROC every process of the user), and the only limit on the size of one file.
        List<String> rlimits = new ArrayList<>();
        if (cgroup.isEmpty() && limits.memoryBytes() > 0) rlimits.add("--as=" + limits.memoryBytes());
        if (cgroup.isEmpty() && limits.processes() > 0) rlimits.add("--nproc=" + limits.processes());
        if (limits.fileBytes() > 0) rlimits.add("--fsize=" + limits.fileBytes());
        if (!rlimits.isEmpty()) {
            if (prlimit == null) {
                warnings.add("prlimit not found (util-linux): no " + String.join(", ", rlimits) + " limit");
            } else {
                command.add(prlimit.toString());
                command.addAll(rlimits);
                command.add("--");
            }
        }
        // Without bubblewrap there is no sandbox to drop privileges into: the command runs as this process, as the
        // warning says.
        boolean dropInside = dropsToNobody() && spec.hostSystem() && bwrap != null;
        boolean dropOutside = dropsToNobody() && !spec.hostSystem() && bwrap != null;
        if (!spec.dieWithParent() && setsid != null) command.add(setsid.toString()); // it execs in place: the pid stays
        if (dropOutside) command.addAll(setpriv());
        if (bwrap == null) {
            command.addAll(spec.command());
        } else {
            command.add(bwrap.toString());
            if (spec.dieWithParent()) command.add("--die-with-parent");
            command.addAll(List.of(
                    "--new-session", "--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"));
            if (!hostNetwork) command.add("--unshare-net");
            // As root with the host's system visible: no user namespace, setpriv inside changes to a real unprivileged
            // uid.
            if (dropInside)
                command.addAll(List.of(
                        "--cap-drop",
                        "ALL",
                        "--cap-add",
                        "CAP_SETUID",
                        "--cap-add",
                        "CAP_SETGID",
                        "--cap-add",
                        "CAP_SETPCAP"));
            else command.addAll(List.of("--unshare-user", "--cap-drop", "ALL"));
            if (spec.hostname() != null) command.addAll(List.of("--hostname", spec.hostname()));
            if (spec.hostSystem()) systemDirs(command);
            command.addAll(List.of("--proc", "/proc", "--dev", "/dev", "--perms", "1777"));
            if (limits.tmpBytes() > 0) command.addAll(List.of("--size", Long.toString(limits.tmpBytes())));
            command.addAll(List.of("--tmpfs", "/tmp"));
            java.util.Set<String> made = new java.util.HashSet<>(List.of("/", "/tmp", "/proc", "/dev"));
            made.addAll(SYSTEM_DIRS);
            for (Mount m : spec.mounts()) {
                // bubblewrap would make the directories above a mount point for root alone (0700): make them readable.
                List<String> above = new ArrayList<>();
                for (Path up = Path.of(m.inside()).getParent();
                        up != null && made.add(up.toString());
                        up = up.getParent()) above.add(up.toString());
                for (String dir : above.reversed()) command.addAll(List.of("--perms", "0755", "--dir", dir));
                switch (m) {
                    case Mount.ReadOnly(Path host, String inside) ->
                        command.addAll(List.of("--ro-bind", host.toString(), inside));
                    case Mount.Writable(Path host, String inside) ->
                        command.addAll(List.of("--bind", host.toString(), inside));
                    case Mount.Copied(Path host, String inside, String mode) -> {
                        int fd = FIRST_FILE_FD
                                + (int) spec.mounts().stream()
                                        .limit(spec.mounts().indexOf(m))
                                        .filter(x -> x instanceof Mount.Copied)
                                        .count();
                        if (fd > LAST_FILE_FD)
                            throw new IllegalArgumentException(
                                    "a sandbox takes at most " + (LAST_FILE_FD - FIRST_FILE_FD + 1) + " copied files");
                        fds.add(fd + "<" + quote(host.toString()));
                        command.addAll(List.of("--perms", mode, "--ro-bind-data", Integer.toString(fd), inside));
                    }
                }
            }
            if (seccomp != null) {
                fds.add(SECCOMP_FD + "<" + quote(seccomp.toString()));
                command.addAll(List.of("--seccomp", Integer.toString(SECCOMP_FD)));
            }
            fds.add(INFO_FD + ">" + quote(infoFile(spec.runDir()).toString()));
            command.addAll(List.of("--info-fd", Integer.toString(INFO_FD)));
            // The command waits on its standard input until pasta has joined its network to the host's.
            if (viaPasta) command.addAll(List.of("--block-fd", "0"));
            command.add("--clearenv");
            spec.env().forEach((k, v) -> command.addAll(List.of("--setenv", k, v)));
            if (spec.workDir() != null) command.addAll(List.of("--chdir", spec.workDir()));
            if (dropInside) command.addAll(setpriv());
            command.addAll(spec.command());
        }
        List<String> joins = cgroup.map(Cgroup::procs).orElse(List.of()).stream()
                .map(p -> quote(p.toString()))
                .toList();
        if (!joins.isEmpty() || !fds.isEmpty()) {
            // The first process joins the control group and opens the descriptors, then becomes the sandbox: nothing of
            // it runs outside the limits, and no unprivileged step has to reach a path of the agent's.
            String join = joins.isEmpty()
                    ? ""
                    : "for f in " + String.join(" ", joins) + "; do echo $$ > \"$f\" || "
                            + "{ echo \"mayfly: cannot join the control group $f\" >&2; exit 125; }; done; ";
            List<String> wrapped =
                    new ArrayList<>(List.of("/bin/sh", "-c", join + "exec \"$@\" " + String.join(" ", fds), "sandbox"));
            wrapped.addAll(command);
            command.clear();
            command.addAll(wrapped);
        }
        if (hostNetwork) warnings.add("this sandbox shares the host's network, its loopback included");
        return new Prepared(
                spec, List.copyOf(command), cgroup, List.copyOf(warnings), viaPasta ? pasta : null, bwrap != null);
    }

    /** A command ready to start, and the control group it will run in. */
    public static final class Prepared {
        private final Spec spec;
        private final List<String> command;
        private final Optional<Cgroup> cgroup;
        private final List<String> warnings;
        private final Pasta pasta;
        private final boolean sandboxed;

        Prepared(
                Spec spec,
                List<String> command,
                Optional<Cgroup> cgroup,
                List<String> warnings,
                Pasta pasta,
                boolean sandboxed) {
            this.spec = spec;
            this.command = command;
            this.cgroup = cgroup;
            this.warnings = warnings;
            this.pasta = pasta;
            this.sandboxed = sandboxed;
        }

        public List<String> command() {
            return command;
        }

        /** What this host lacks for a full sandbox, and what that means for this command. */
        public List<String> warnings() {
            return warnings;
        }

        public boolean sandboxed() {
            return sandboxed;
        }

        /**
         * Starts the command with the builder's directory, environment and output (its input and command are set
         * here), and joins its network to the host's when the spec asks. If that fails, the command is killed and
         * the control group removed.
         */
        public Running start(ProcessBuilder builder) throws IOException {
            builder.command(command);
            builder.redirectInput(
                    pasta != null ? ProcessBuilder.Redirect.PIPE : ProcessBuilder.Redirect.from(new File("/dev/null")));
            Path info = infoFile(spec.runDir());
            Files.deleteIfExists(info);
            Process process;
            try {
                process = builder.start();
            } catch (IOException e) {
                cleanUp();
                throw e;
            }
            if (pasta == null) return new Running(process, info, null, cgroup);
            try {
                Process joined = join(pasta, sandboxPid(process, info), process, spec.network(), spec.runDir());
                try (OutputStream release = process.getOutputStream()) {
                    release.write('\n');
                }
                return new Running(process, info, joined, cgroup);
            } catch (IOException | RuntimeException e) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                cleanUp();
                throw e;
            }
        }

        /** Removes the control group; call once the command ended. */
        public void cleanUp() {
            cgroup.ifPresent(Cgroup::remove);
        }
    }

    /** A started sandbox: its outermost process, and pasta when it has one. */
    public static final class Running {
        private final Process process;
        private final Path info;
        private final Process pasta;
        private final Optional<Cgroup> cgroup;

        Running(Process process, Path info, Process pasta, Optional<Cgroup> cgroup) {
            this.process = process;
            this.info = info;
            this.pasta = pasta;
            this.cgroup = cgroup;
        }

        public Process process() {
            return process;
        }

        /** pasta's process, or empty when the sandbox has no network or shares the host's. */
        public Optional<Process> pasta() {
            return Optional.ofNullable(pasta);
        }

        /** The pid of the sandbox's first process (pid 1 of its pid namespace), whose namespaces are the sandbox's. */
        public long sandboxPid() throws IOException {
            return Sandbox.sandboxPid(process, info);
        }

        /** Which limit the command ran into, said for its owner, or empty. */
        public Optional<String> limitHit() {
            return cgroup.flatMap(Cgroup::limitHit);
        }

        /** What outlives the command unless removed, as a record a restarted agent can read back. */
        public Leftovers leftovers() {
            long pastaPid = pasta == null ? 0 : pasta.pid();
            long started = pasta == null
                    ? 0
                    : pasta.toHandle()
                            .info()
                            .startInstant()
                            .map(java.time.Instant::toEpochMilli)
                            .orElse(0L);
            return new Leftovers(pastaPid, started, cgroup.map(Cgroup::dirs).orElse(List.of()));
        }

        /** Stops pasta and removes the control group; call once the command ended. */
        public void cleanUp() {
            leftovers().release();
        }
    }

    /**
     * What a sandbox leaves behind when its command ends: pasta, which does not end by itself, and the control group.
     * Kept beside an instance, so that an agent that restarted can remove them too.
     */
    public record Leftovers(long pastaPid, long pastaStartedMillis, List<Path> cgroups) {
        /** Stops pasta (if that pid is still the pasta started then) and removes the control groups. */
        public void release() {
            if (pastaPid > 0) {
                ProcessHandle.of(pastaPid)
                        .filter(p -> p.info()
                                        .startInstant()
                                        .map(java.time.Instant::toEpochMilli)
                                        .orElse(-1L)
                                == pastaStartedMillis)
                        .ifPresent(p -> {
                            p.destroy();
                            try {
                                p.onExit().get(2, java.util.concurrent.TimeUnit.SECONDS);
                            } catch (Exception e) {
                                p.destroyForcibly();
                            }
                        });
            }
            cgroups.forEach(Cgroup::rmdir);
        }
    }

    /**
     * Joins the network namespace of {@code pid} (a process of {@code owner}'s, whose loopback is up or comes up) to the
     * host's with pasta, as {@code network} says; returns pasta once it is set up. pasta ends by itself when the
     * namespace does. Its pid and log are kept in {@code runDir}.
     */
    public static Process join(Pasta pasta, long pid, Process owner, Network network, Path runDir) throws IOException {
        awaitLoopback(pid, owner);
        Path pidFile = runDir.resolve("pasta.pid");
        Path log = runDir.resolve("pasta.log");
        Files.deleteIfExists(pidFile);
        Process joined = pasta.attach(pid, network, pidFile, log);
        long deadline = System.nanoTime() + SETUP_TIMEOUT.toNanos();
        while (!Files.exists(pidFile)) {
            if (!joined.isAlive()) {
                throw new IOException("pasta could not join the network to the host's (exit code " + joined.exitValue()
                        + "): " + tail(log));
            }
            if (!owner.isAlive()) throw new IOException("the process ended while its network was set up");
            if (System.nanoTime() > deadline) {
                joined.destroyForcibly();
                throw new IOException("pasta did not join the network within " + SETUP_TIMEOUT.toSeconds() + " s");
            }
            pause();
        }
        return joined;
    }

    /**
     * bubblewrap says the sandbox's pid before it has brought up the sandbox's loopback; pasta joining the namespace
     * meanwhile makes that fail ("loopback: Failed RTM_NEWADDR"). So pasta waits until 127.0.0.1 is there.
     */
    private static void awaitLoopback(long pid, Process process) throws IOException {
        Path fib = Path.of("/proc/" + pid + "/net/fib_trie");
        Path netns = Path.of("/proc/" + pid + "/ns/net");
        Path ours = Files.readSymbolicLink(Path.of("/proc/self/ns/net"));
        long deadline = System.nanoTime() + SETUP_TIMEOUT.toNanos();
        while (true) {
            try {
                // In a namespace of its own yet (a process may make it after it started: unshare), with its loopback
                // up.
                if (!Files.readSymbolicLink(netns).equals(ours)
                        && Files.readString(fib).contains("127.0.0.1")) return;
            } catch (IOException e) {
                if (!process.isAlive())
                    throw new IOException(
                            "the sandbox ended before it started (exit code " + process.exitValue() + ")");
            }
            if (!process.isAlive())
                throw new IOException("the sandbox ended before it started (exit code " + process.exitValue() + ")");
            if (System.nanoTime() > deadline)
                throw new IOException(
                        "the sandbox's loopback did not come up within " + SETUP_TIMEOUT.toSeconds() + " s");
            pause();
        }
    }

    /** The sandbox pid bubblewrap recorded in {@code runDir} when it started, if it did (for an agent that restarted). */
    public static Optional<Long> recordedPid(Path runDir) {
        try {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"child-pid\"\\s*:\\s*(\\d+)")
                    .matcher(Files.readString(infoFile(runDir)));
            return m.find() ? Optional.of(Long.parseLong(m.group(1))) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static Path infoFile(Path runDir) {
        return runDir.resolve("sandbox.json");
    }

    /** The child pid bubblewrap writes to its info file once the sandbox exists. */
    static long sandboxPid(Process process, Path info) throws IOException {
        long deadline = System.nanoTime() + SETUP_TIMEOUT.toNanos();
        while (true) {
            if (Files.exists(info)) {
                String text = Files.readString(info);
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"child-pid\"\\s*:\\s*(\\d+)")
                        .matcher(text);
                if (m.find()) return Long.parseLong(m.group(1));
            }
            if (!process.isAlive()) {
                throw new IOException("the sandbox ended before it started (exit code " + process.exitValue() + ")");
            }
            if (System.nanoTime() > deadline)
                throw new IOException(
                        "bubblewrap did not say its sandbox's pid within " + SETUP_TIMEOUT.toSeconds() + " s");
            pause();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while a sandbox started", e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
            lines = lines.stream().filter(l -> !l.contains("syslog")).toList();
            return lines.isEmpty()
                    ? "(it said nothing)"
                    : String.join(" / ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
        } catch (IOException e) {
            return "(its log is unreadable: " + e.getMessage() + ")";
        }
    }

    private List<String> setpriv() {
        return List.of(
                setpriv.toString(),
                "--reuid=" + NOBODY,
                "--regid=" + NOBODY,
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
                "--");
    }

    private static void systemDirs(List<String> command) {
        for (String dir : SYSTEM_DIRS) {
            Path p = Path.of(dir);
            if (Files.isSymbolicLink(p)) {
                try {
                    command.addAll(
                            List.of("--symlink", Files.readSymbolicLink(p).toString(), dir));
                } catch (IOException e) {
                    command.addAll(List.of("--ro-bind-try", dir, dir));
                }
            } else if (Files.isDirectory(p)) {
                command.addAll(List.of("--ro-bind", dir, dir));
            }
        }
    }

    private static Path writeOnce(Path file, byte[] content) throws IOException {
        Files.createDirectories(file.getParent());
        if (Files.exists(file) && Arrays.equals(Files.readAllBytes(file), content)) return file;
        Path tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
        Files.write(tmp, content);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return file;
    }

    /** A word for /bin/sh, in single quotes. */
    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** Whether this process's effective uid is 0. */
    public static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) return line.split("\\s+")[2].equals("0");
            }
        } catch (IOException ignored) {
            // not Linux: no root to drop
        }
        return false;
    }

    private static Path executable(String path) {
        Path p = Path.of(path);
        return Files.isExecutable(p) ? p : null;
    }
}
