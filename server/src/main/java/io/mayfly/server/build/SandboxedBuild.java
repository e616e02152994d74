package io.mayfly.server.build;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Runs a build command in a bubblewrap sandbox: the checkout writable at /build, the host's /usr, /lib, /bin
 * and /etc read-only, no network unless asked, nothing else of the host visible (in particular not the
 * server's data directory), a fixed environment, a time limit and a cap on the log.
 */
public final class SandboxedBuild implements Builder {
    private static final Path BWRAP = Path.of("/usr/bin/bwrap");
    private static final List<String> SYSTEM_DIRS = List.of("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc");

    public static boolean bwrapAvailable() {
        return Files.isExecutable(BWRAP);
    }

    @Override
    public BuildResult run(BuildRequest req, BuildOutput out) throws InterruptedException {
        long start = System.nanoTime();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
        env.put("HOME", "/tmp");
        env.put("LANG", "C.UTF-8");
        env.putAll(req.env());
        boolean sandboxed = bwrapAvailable();
        Provenance provenance = Provenance.capture(req.source(), req.command(), env);
        if (!sandboxed) {
            out.line("warning: bubblewrap (bwrap) not found; the build runs as an ordinary process with no sandbox. "
                    + "Install it with: apt-get install bubblewrap");
        }
        ProcessBuilder pb = new ProcessBuilder(sandboxed ? sandboxCommand(req, env) : List.of("/bin/sh", "-c", req.command()))
                .redirectErrorStream(true).directory(req.workDir().toFile());
        if (!sandboxed) {
            pb.environment().clear();
            pb.environment().putAll(env);
        }
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            return new BuildResult(new BuildOutcome.Failed("could not start the build: " + e.getMessage()), null, since(start), sandboxed, provenance);
        }
        closeQuietly(process.getOutputStream());
        AtomicBoolean logTooBig = new AtomicBoolean();
        Thread reader = Thread.ofVirtual().name("build-output").start(() -> copyOutput(process, req, out, logTooBig));
        boolean finished = process.waitFor(req.timeout().toMillis(), TimeUnit.MILLISECONDS);
        if (!finished || logTooBig.get()) {
            kill(process);
        }
        reader.join(TimeUnit.SECONDS.toMillis(10));
        Duration took = since(start);
        if (logTooBig.get()) {
            return new BuildResult(new BuildOutcome.Failed("the build log exceeded " + (req.maxLogBytes() / 1024 / 1024) + " MiB; the build was stopped"),
                    null, took, sandboxed, provenance);
        }
        if (!finished) {
            return new BuildResult(new BuildOutcome.Failed("the build timed out after " + human(req.timeout()) + " and was stopped; "
                    + "raise [build] timeout in mayfly.toml if it needs longer"), null, took, sandboxed, provenance);
        }
        int code = process.exitValue();
        BuildOutcome outcome = code == 0 ? new BuildOutcome.Succeeded()
                : new BuildOutcome.Failed("the build command exited with code " + code);
        return new BuildResult(outcome, code, took, sandboxed, provenance);
    }

    private static List<String> sandboxCommand(BuildRequest req, Map<String, String> env) {
        List<String> cmd = new ArrayList<>(List.of(BWRAP.toString(), "--die-with-parent", "--new-session", "--unshare-all"));
        if (req.network()) cmd.add("--share-net");
        for (String dir : SYSTEM_DIRS) {
            Path p = Path.of(dir);
            if (Files.isSymbolicLink(p)) {
                try {
                    cmd.addAll(List.of("--symlink", Files.readSymbolicLink(p).toString(), dir));
                } catch (IOException e) {
                    cmd.addAll(List.of("--ro-bind-try", dir, dir));
                }
            } else if (Files.isDirectory(p)) {
                cmd.addAll(List.of("--ro-bind", dir, dir));
            }
        }
        // /tmp first: host paths may live below it and must not be hidden by it.
        cmd.addAll(List.of("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"));
        for (Path host : req.hostPaths()) {
            cmd.addAll(List.of("--ro-bind-try", host.toString(), host.toString()));
        }
        cmd.addAll(List.of("--bind", req.workDir().toAbsolutePath().toString(), "/build", "--clearenv"));
        env.forEach((k, v) -> cmd.addAll(List.of("--setenv", k, v)));
        cmd.addAll(List.of("--chdir", "/build", "/bin/sh", "-c", req.command()));
        return cmd;
    }

    private static void copyOutput(Process process, BuildRequest req, BuildOutput out, AtomicBoolean logTooBig) {
        AtomicLong written = new AtomicLong();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             OutputStream log = Files.newOutputStream(req.logFile(), StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            String line;
            while ((line = lines.readLine()) != null) {
                byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
                if (written.addAndGet(bytes.length) > req.maxLogBytes()) {
                    logTooBig.set(true);
                    process.destroyForcibly();
                    return;
                }
                log.write(bytes);
                log.flush();
                out.line(line);
            }
        } catch (IOException e) {
            out.line("(build output could not be read: " + e.getMessage() + ")");
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

    /** The build's main artifact, or an error saying what is there instead. */
    public static Path requireArtifact(Path workDir, String relative) throws IOException {
        Path file = workDir.resolve(relative).normalize();
        if (!file.startsWith(workDir) || !Files.isRegularFile(file)) {
            List<String> top;
            try (Stream<Path> files = Files.list(workDir)) {
                top = files.map(p -> p.getFileName().toString()).sorted().limit(20).toList();
            }
            throw new IOException("the build finished but did not leave mayfly.toml's [build] artifact = \"" + relative
                    + "\" (looked for /build/" + relative + "); files at the top of the build directory: " + String.join(", ", top));
        }
        return file;
    }

    private static void closeQuietly(OutputStream stdin) {
        try {
            stdin.close();
        } catch (IOException ignored) {
            // the build reads no input; a stdin that cannot be closed changes nothing
        }
    }

    private static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    private static String human(Duration d) {
        return d.toSeconds() >= 60 && d.toSecondsPart() == 0 ? d.toMinutes() + "m" : d.toSeconds() + "s";
    }
}
