package io.mayfly.server.build;

import io.mayfly.server.store.BuildJobs;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Builds on build workers ({@code mayfly agent --builds}) while any is present, else in the local sandbox. A
 * build for a worker is queued with its checkout zipped; the first worker to claim it downloads the zip, runs the
 * command in its own sandbox, streams its output back (shown live in the push), uploads the files the build must
 * leave, and reports how it ended. The build then goes on here exactly as a local one would: the artifacts are in
 * the work directory. A worker silent for {@link #SILENT} while it builds fails the build.
 */
public final class BuildQueue implements Builder {
    /** A worker that asked for work or reported within this is present. */
    static final Duration PRESENT = Duration.ofSeconds(10);
    /** A claimed build whose worker is silent this long has failed: the worker is gone. */
    static final Duration SILENT = Duration.ofSeconds(30);

    private final BuildJobs jobs;
    private final Builder local;
    private final Path spool;
    private final Map<String, Instant> seen = new ConcurrentHashMap<>();
    private final Map<String, Waiting> waiting = new ConcurrentHashMap<>();
    private final Object queued = new Object();

    private record Waiting(
            BuildRequest request, BuildOutput out, Path zip, CompletableFuture<AgentViews.BuildJobResult> done) {}

    public BuildQueue(BuildJobs jobs, Builder local, Path spool) throws IOException {
        this.jobs = jobs;
        this.local = local;
        this.spool = spool;
        Files.createDirectories(spool);
    }

    /** The workers heard from lately, by name. */
    public List<String> workers() {
        Instant since = Instant.now().minus(PRESENT);
        return seen.entrySet().stream()
                .filter(e -> e.getValue().isAfter(since))
                .map(Map.Entry::getKey)
                .sorted()
                .toList();
    }

    @Override
    public BuildResult run(BuildRequest request, BuildOutput out) throws InterruptedException {
        List<String> present = workers();
        if (present.isEmpty()) return local.run(request, out);
        long began = System.nanoTime();
        String id = java.util.UUID.randomUUID().toString().replace("-", "");
        Path zip = spool.resolve(id + ".zip");
        AgentViews.BuildJob job;
        try {
            job = zip(request, id, zip);
        } catch (IOException e) {
            return failed("could not pack the checkout for a build worker: " + e.getMessage(), began);
        }
        Waiting w = new Waiting(request, out, zip, new CompletableFuture<>());
        waiting.put(id, w);
        try {
            jobs.enqueue(id, Json.write(job));
            synchronized (queued) {
                queued.notifyAll();
            }
            out.line("mayfly: queued for a build worker (present: " + String.join(", ", present) + ")");
            AgentViews.BuildJobResult result = await(id, w, request.timeout().plus(Duration.ofMinutes(2)));
            BuildOutcome outcome =
                    result.failure() == null ? new BuildOutcome.Succeeded() : new BuildOutcome.Failed(result.failure());
            return new BuildResult(
                    outcome,
                    result.exitCode(),
                    Duration.ofMillis(result.durationMillis()),
                    result.sandboxed(),
                    result.provenance() == null
                            ? Provenance.capture(request.source(), request.command(), request.env())
                            : Provenance.fromJson(result.provenance()));
        } catch (TimeoutException e) {
            jobs.end(id, "abandoned");
            return failed(e.getMessage(), began);
        } finally {
            waiting.remove(id);
            try {
                Files.deleteIfExists(zip);
            } catch (IOException ignored) {
                // the spool is emptied at the next start
            }
        }
    }

    /** Waits for the worker's result, failing the build once its worker has been silent too long or the bound passes. */
    private AgentViews.BuildJobResult await(String id, Waiting w, Duration bound)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + bound.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                return w.done().get(1, TimeUnit.SECONDS);
            } catch (TimeoutException notYet) {
                Optional<String> worker = jobs.claimedBy(id);
                Instant last = worker.map(seen::get).orElse(null);
                if (last != null && last.isBefore(Instant.now().minus(SILENT))) {
                    throw new TimeoutException("build worker " + worker.get() + " went silent for " + SILENT.toSeconds()
                            + " s during the build; push again to build on another worker");
                }
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }
        throw new TimeoutException("no build worker finished the build within " + bound.toMinutes() + " min");
    }

    // ---- what a worker does, through WorkerRoutes ----

    /** The oldest queued build, claimed for {@code worker}; waits up to {@code wait} for one. */
    public Optional<AgentViews.BuildJob> claim(String worker, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            seen.put(worker, Instant.now());
            Optional<BuildJobs.Claimed> claimed = jobs.claim(worker);
            if (claimed.isPresent()) {
                AgentViews.BuildJob job = Json.read(claimed.get().job(), AgentViews.BuildJob.class);
                Waiting w = waiting.get(job.id());
                if (w != null) w.out().line("mayfly: building on worker " + worker);
                return Optional.of(job);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) return Optional.empty();
            synchronized (queued) {
                queued.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 1000)));
            }
        }
    }

    public Path source(String worker, String id) {
        return job(worker, id).zip();
    }

    /** Output from the worker: appended to the build log and shown to whoever watches the build. */
    public void log(String worker, String id, String text) throws IOException {
        Waiting w = job(worker, id);
        if (text.isEmpty()) return; // a heartbeat
        Files.writeString(
                w.request().logFile(),
                text,
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        text.lines().forEach(w.out()::line);
    }

    /** One of the files the build left, written into the work directory as if the build had run here. */
    public void output(String worker, String id, String path, InputStream body) throws IOException {
        Waiting w = job(worker, id);
        if (!isOutput(w.request().outputs(), path)) {
            throw new IllegalArgumentException(path + " is not a file build " + id + " must leave ("
                    + w.request().outputs() + ")");
        }
        Path target = w.request().workDir().resolve(path).normalize();
        if (!target.startsWith(w.request().workDir()))
            throw new IllegalArgumentException(path + " is outside the checkout");
        Files.createDirectories(target.getParent());
        Path partial = Files.createTempFile(target.getParent(), ".upload-", ".partial");
        try {
            try (OutputStream out = Files.newOutputStream(partial)) {
                body.transferTo(out);
            }
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    /** Whether {@code path} is one of {@code outputs}: named, or directly in an output that names a directory ("dist/"). */
    static boolean isOutput(List<String> outputs, String path) {
        return !path.endsWith("/") && outputs.contains(path)
                || outputs.stream()
                        .anyMatch(o -> o.endsWith("/")
                                && path.startsWith(o)
                                && !path.substring(o.length()).isEmpty()
                                && !path.substring(o.length()).contains("/"));
    }

    public void finish(String worker, String id, AgentViews.BuildJobResult result) {
        Waiting w = job(worker, id);
        jobs.end(id, "finished");
        w.done().complete(result);
    }

    /** The waiting build {@code id}, if {@code worker} is the one that claimed it; a heartbeat from it. */
    private Waiting job(String worker, String id) {
        seen.put(worker, Instant.now());
        Waiting w = waiting.get(id);
        if (w == null || !jobs.claimedBy(id).filter(worker::equals).isPresent()) {
            throw new IllegalArgumentException(
                    "build " + id + " is not one worker " + worker + " claimed and is running");
        }
        return w;
    }

    /** Zips the checkout (regular files; modes and symlinks go in the job, as zip keeps neither) and describes the build. */
    private static AgentViews.BuildJob zip(BuildRequest request, String id, Path zip) throws IOException {
        Path root = request.workDir();
        List<String> executables = new ArrayList<>();
        Map<String, String> symlinks = new TreeMap<>();
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip));
                Stream<Path> files = Files.walk(root)) {
            for (Path p : (Iterable<Path>) files.sorted()::iterator) {
                String name = root.relativize(p).toString();
                if (name.isEmpty() || Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) continue;
                if (Files.isSymbolicLink(p)) {
                    symlinks.put(name, Files.readSymbolicLink(p).toString());
                    continue;
                }
                if (Files.getPosixFilePermissions(p).contains(PosixFilePermission.OWNER_EXECUTE)) executables.add(name);
                out.putNextEntry(new ZipEntry(name));
                Files.copy(p, out);
                out.closeEntry();
            }
        }
        return new AgentViews.BuildJob(
                id,
                request.env().getOrDefault("MAYFLY_APP", ""),
                request.source(),
                request.command(),
                request.network(),
                request.hostPaths().stream().map(Path::toString).toList(),
                request.env(),
                request.timeout().toMillis(),
                request.maxLogBytes(),
                request.outputs(),
                executables,
                symlinks);
    }

    private static BuildResult failed(String reason, long began) {
        return new BuildResult(
                new BuildOutcome.Failed(reason),
                null,
                Duration.ofNanos(System.nanoTime() - began),
                false,
                new Provenance("", "", Map.of(), Map.of(), Map.of(), "", ""));
    }
}
