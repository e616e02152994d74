package io.mayfly.server.build;

import io.mayfly.sandbox.Network;
import io.mayfly.sandbox.Sandbox;
import io.mayfly.wire.Human;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * Runs a build command (or a staged test) in the host's {@link Sandbox}: the checkout writable at /build, the host's
 * /usr, /lib, /bin and /etc read-only, the host paths the {@link BuildPolicy} grants, and nothing else of the host (in
 * particular not the server's data directory); as an unprivileged user under seccomp, in a network of its own that
 * reaches the internet only when the manifest asks and the host's loopback never; with the policy's limits on memory,
 * processes, /tmp, the build directory and time, and a cap on the bytes of output. Each limit that stops a build says so.
 */
public final class SandboxedBuild implements Builder {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** A line longer than this is passed on in pieces: output without newlines must not pile up in memory. */
    static final int MAX_LINE = 8192;

    private static final Duration DISK_POLL = Duration.ofMillis(500);

    private final Sandbox sandbox;
    private final BuildPolicy policy;
    private final Path runRoot;

    /** @param runRoot where each build's sandbox keeps what describes it while it runs */
    public SandboxedBuild(Sandbox sandbox, BuildPolicy policy, Path runRoot) {
        this.sandbox = sandbox;
        this.policy = policy;
        this.runRoot = runRoot;
    }

    /** This host's sandbox, its state (the seccomp program, each build's run files) in {@code stateDir}. */
    public static SandboxedBuild onThisHost(Path stateDir, BuildPolicy policy) throws IOException {
        return new SandboxedBuild(Sandbox.onThisHost(stateDir), policy, stateDir.resolve("runs"));
    }

    public BuildPolicy policy() {
        return policy;
    }

    public Sandbox sandbox() {
        return sandbox;
    }

    @Override
    public BuildResult run(BuildRequest req, BuildOutput out) throws InterruptedException {
        long start = System.nanoTime();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
        env.put("HOME", "/tmp");
        env.put("LANG", "C.UTF-8");
        env.putAll(req.env());
        Provenance provenance = Provenance.capture(req.source(), req.command(), env);
        Optional<String> refused = policy.refuseHostPaths(
                        req.hostPaths().stream().map(Path::toString).toList())
                .or(() -> policy.refuseTimeout(req.timeout()));
        if (refused.isPresent()) return failed(refused.get(), null, start, provenance);

        String id = "build-" + HexFormat.of().formatHex(randomBytes());
        Path runDir = runRoot.resolve(id);
        List<Sandbox.Mount> mounts = new ArrayList<>();
        req.hostPaths().forEach(p -> mounts.add(new Sandbox.Mount.ReadOnly(p, p.toString())));
        mounts.add(new Sandbox.Mount.Writable(req.workDir().toAbsolutePath(), "/build"));
        Network network = new Network(req.network(), List.of(), req.hostPorts());
        Sandbox.Spec spec = new Sandbox.Spec(
                id,
                true,
                mounts,
                network,
                "build",
                env,
                "/build",
                List.of("/bin/sh", "-c", req.command()),
                policy.limits(),
                runDir,
                true);
        Sandbox.Running running;
        try {
            if (sandbox.dropsToNobody()) giveTo(req.workDir(), Sandbox.NOBODY);
            Sandbox.Prepared prepared = sandbox.prepare(spec);
            prepared.warnings().forEach(w -> out.line("warning: " + w));
            ProcessBuilder pb = new ProcessBuilder()
                    .redirectErrorStream(true)
                    .directory(req.workDir().toFile());
            if (!prepared.sandboxed()) {
                pb.environment().clear();
                pb.environment().putAll(env);
            }
            running = prepared.start(pb);
        } catch (IOException e) {
            deleteQuietly(runDir);
            return new BuildResult(
                    new BuildOutcome.Failed("could not start the build: " + e.getMessage()),
                    null,
                    since(start),
                    sandbox.available(),
                    provenance);
        }
        Process process = running.process();
        AtomicReference<String> stoppedBy = new AtomicReference<>();
        Thread reader = Thread.ofVirtual().name("build-output").start(() -> copyOutput(process, req, out, stoppedBy));
        Thread disk = Thread.ofVirtual().name("build-disk").start(() -> watchDisk(process, req.workDir(), stoppedBy));
        Duration timeout = policy.timeout(req.timeout());
        boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (!finished)
            stoppedBy.compareAndSet(
                    null,
                    "the build timed out after " + human(timeout) + " and was stopped; "
                            + (timeout.equals(req.timeout())
                                    ? "raise [build] timeout in mayfly.toml if it needs longer"
                                    : "this server allows a build at most that (--build-max-timeout)"));
        if (!finished || stoppedBy.get() != null) kill(process);
        reader.join(TimeUnit.SECONDS.toMillis(10));
        disk.interrupt();
        Optional<String> limit = running.limitHit();
        running.cleanUp();
        deleteQuietly(runDir);
        if (stoppedBy.get() != null) return failed(stoppedBy.get(), null, start, provenance);
        int code = process.exitValue();
        if (code == 0)
            return new BuildResult(new BuildOutcome.Succeeded(), code, since(start), sandbox.available(), provenance);
        String why = "the build command exited with code " + code;
        if (limit.isPresent()) why += ": " + limit.get() + " (the limits of a build here: " + policy.describe() + ")";
        else if (code == 128 + 25)
            why += " (SIGXFSZ: a file reached " + Human.size(policy.diskBytes()) + ", the most a build may write)";
        return failed(why, code, start, provenance);
    }

    private BuildResult failed(String reason, Integer code, long start, Provenance provenance) {
        return new BuildResult(new BuildOutcome.Failed(reason), code, since(start), sandbox.available(), provenance);
    }

    /**
     * Passes the output on a line at a time and appends it to the log, counting bytes, not lines: a line longer than
     * {@link #MAX_LINE} goes on in pieces, and past the request's cap the build is stopped.
     */
    private static void copyOutput(
            Process process, BuildRequest req, BuildOutput out, AtomicReference<String> stoppedBy) {
        long written = 0;
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try (InputStream in = process.getInputStream();
                OutputStream log =
                        Files.newOutputStream(req.logFile(), StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            for (int n; (n = in.read(buf)) >= 0; ) {
                if (written + n > req.maxLogBytes()) {
                    stoppedBy.compareAndSet(
                            null,
                            "the build's output exceeded " + Human.size(req.maxLogBytes()) + "; the build was stopped");
                    n = (int) Math.max(0, req.maxLogBytes() - written);
                    log.write(buf, 0, n);
                    emit(line, buf, n, out);
                    process.destroyForcibly();
                    return;
                }
                written += n;
                log.write(buf, 0, n);
                log.flush();
                emit(line, buf, n, out);
            }
            if (line.size() > 0) out.line(line.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            out.line("(build output could not be read: " + e.getMessage() + ")");
        }
    }

    private static void emit(ByteArrayOutputStream line, byte[] buf, int n, BuildOutput out) {
        for (int i = 0; i < n; i++) {
            byte b = buf[i];
            if (b == '\n' || line.size() >= MAX_LINE) {
                out.line(line.toString(StandardCharsets.UTF_8));
                line.reset();
                if (b == '\n') continue;
            }
            line.write(b);
        }
    }

    /** Stops the build once its directory holds more than the policy allows (a file alone is stopped by RLIMIT_FSIZE). */
    private void watchDisk(Process process, Path workDir, AtomicReference<String> stoppedBy) {
        while (process.isAlive()) {
            try {
                Thread.sleep(DISK_POLL);
            } catch (InterruptedException e) {
                return;
            }
            long used = usage(workDir);
            if (used > policy.diskBytes()) {
                stoppedBy.compareAndSet(
                        null,
                        "the build directory grew to " + Human.size(used) + ", past the "
                                + Human.size(policy.diskBytes()) + " a build may use here; the build was stopped");
                process.destroyForcibly();
                return;
            }
        }
    }

    /** Bytes under dir, links not followed. */
    static long usage(Path dir) {
        AtomicLong total = new AtomicLong();
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    total.addAndGet(attrs.size());
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE; // removed while we looked
                }
            });
        } catch (IOException ignored) {
            // what was counted stands
        }
        return total.get();
    }

    /** Makes the checkout the sandbox user's, so that the build may write it; links are changed, never followed. */
    static void giveTo(Path dir, int uid) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(p, "unix:gid", uid, LinkOption.NOFOLLOW_LINKS);
            }
        }
    }

    /** Kills the build and everything it started; inside bwrap, killing the monitor takes the whole pid namespace down. */
    private static void kill(Process process) throws InterruptedException {
        try (Stream<ProcessHandle> descendants = process.descendants()) {
            descendants.forEach(ProcessHandle::destroyForcibly);
        }
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /**
     * The build's artifact: a regular file inside the build directory, reached without following any symbolic link
     * (a link, or a directory on the way that is one, could lead to any file of the host). Otherwise an error that
     * names it and says what is there.
     */
    public static Path requireArtifact(Path workDir, String relative) throws IOException {
        Path file = workDir.resolve(relative).normalize();
        if (!file.startsWith(workDir) || file.equals(workDir)) {
            throw new IOException(
                    "mayfly.toml's [build] artifact = \"" + relative + "\" is not inside the build directory");
        }
        Path at = workDir;
        for (Path part : workDir.relativize(file)) {
            at = at.resolve(part);
            if (Files.isSymbolicLink(at)) {
                throw new IOException("the build's artifact \"" + relative + "\" is a symbolic link"
                        + (at.equals(file) ? "" : " (at " + workDir.relativize(at) + ")")
                        + "; Mayfly stores only regular files from inside the build directory: "
                        + "copy the file there instead of linking to it");
            }
        }
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            List<String> top;
            try (Stream<Path> files = Files.list(workDir)) {
                top = files.map(p -> p.getFileName().toString())
                        .sorted()
                        .limit(20)
                        .toList();
            }
            throw new IOException("the build finished but did not leave mayfly.toml's [build] artifact = \"" + relative
                    + "\" as a file (looked for /build/" + relative + "); files at the top of the build directory: "
                    + String.join(", ", top));
        }
        return file;
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[4];
        RANDOM.nextBytes(b);
        return b;
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // the run files of one build; the next start of the server empties the work directory
        }
    }

    private static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    private static String human(Duration d) {
        return d.toSeconds() >= 60 && d.toSecondsPart() == 0 ? d.toMinutes() + "m" : d.toSeconds() + "s";
    }
}
