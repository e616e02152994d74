package io.mayfly.server.build;

import io.mayfly.server.store.DurableFiles;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * The worker side of {@link BuildQueue}, run by {@code mayfly agent --builds}: claims one build at a time from the
 * server, restores its checkout, runs it in this host's sandbox, sends the output back as it comes (every 200 ms,
 * and an empty heartbeat every 5 s during a quiet build), uploads the files the build must leave, and reports how
 * it ended with this host's provenance. It holds an agent token and nothing else.
 */
public final class BuildWorker implements Runnable {
    private static final Duration FLUSH = Duration.ofMillis(200);
    private static final Duration HEARTBEAT = Duration.ofSeconds(5);

    private final URI server;
    private final String name;
    private final String token;
    private final Path dir;
    private final Builder sandbox;
    private final Consumer<String> log;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    public BuildWorker(URI server, String name, String token, Path dir, Builder sandbox, Consumer<String> log)
            throws IOException {
        this.server = server;
        this.name = name;
        this.token = token;
        this.dir = dir;
        this.sandbox = sandbox;
        this.log = log;
        Files.createDirectories(dir);
    }

    /** Claims and builds until interrupted; an unreachable server is retried with back-off. */
    @Override
    public void run() {
        Duration backoff = Duration.ofMillis(250);
        while (!Thread.currentThread().isInterrupted()) {
            try {
                HttpResponse<String> r = http.send(
                        request("/claim")
                                .timeout(Duration.ofSeconds(40))
                                .POST(HttpRequest.BodyPublishers.noBody())
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                backoff = Duration.ofMillis(250);
                if (r.statusCode() == 204) continue;
                if (r.statusCode() != 200)
                    throw new IOException("claiming a build answered HTTP " + r.statusCode() + ": " + r.body());
                build(Json.read(r.body(), AgentViews.BuildJob.class));
            } catch (IOException e) {
                log.accept("build worker: " + e.getMessage() + "; trying again in " + backoff.toMillis() + " ms");
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException stop) {
                    return;
                }
                backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(5)) > 0
                        ? Duration.ofSeconds(5)
                        : backoff.multipliedBy(2);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void build(AgentViews.BuildJob job) throws IOException, InterruptedException {
        log.accept("building " + job.app() + " (" + job.source() + ") for the server: " + job.command());
        Path work = dir.resolve("work").resolve(job.id());
        DurableFiles.deleteTree(work);
        try {
            restore(job, work);
            StringBuilder pending = new StringBuilder();
            AtomicBoolean over = new AtomicBoolean();
            Thread sender =
                    Thread.ofVirtual().name("build-output-" + job.id()).start(() -> sendOutput(job, pending, over));
            BuildResult result;
            try {
                result = sandbox.run(
                        new BuildRequest(
                                job.source(),
                                work,
                                job.command(),
                                job.network(),
                                job.hostPaths().stream().map(Path::of).toList(),
                                job.env(),
                                Duration.ofMillis(job.timeoutMillis()),
                                job.maxLogBytes(),
                                dir.resolve("work").resolve(job.id() + ".log"),
                                job.outputs()),
                        line -> {
                            synchronized (pending) {
                                pending.append(line).append('\n');
                            }
                        });
            } finally {
                over.set(true); // not an interrupt: a send cut off halfway would lose what it carried
                sender.join();
            }
            flush(job, pending);
            String failure = result.outcome() instanceof BuildOutcome.Failed f ? f.reason() : null;
            if (failure == null) {
                for (String output : files(work, job.outputs())) {
                    Path file;
                    try {
                        file = SandboxedBuild.requireArtifact(work, output);
                    } catch (IOException missingOrLink) {
                        continue; // the server says which is missing
                    }
                    HttpResponse<String> r = http.send(
                            request("/jobs/" + job.id() + "/outputs?path="
                                            + URLEncoder.encode(output, StandardCharsets.UTF_8))
                                    .PUT(HttpRequest.BodyPublishers.ofFile(file))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() / 100 != 2)
                        throw new IOException(
                                "uploading " + output + " answered HTTP " + r.statusCode() + ": " + r.body());
                }
            }
            AgentViews.BuildJobResult report = new AgentViews.BuildJobResult(
                    result.exitCode(),
                    failure,
                    result.duration().toMillis(),
                    result.sandboxed(),
                    result.provenance().toJson());
            HttpResponse<String> r = http.send(
                    request("/jobs/" + job.id() + "/result")
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(Json.write(report)))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() / 100 != 2)
                throw new IOException("reporting the build answered HTTP " + r.statusCode() + ": " + r.body());
            log.accept("built " + job.app() + ": " + (failure == null ? "succeeded" : failure));
        } finally {
            DurableFiles.deleteTree(work);
        }
    }

    /** The outputs to upload: each named file, and every file directly in each named directory ("dist/"). */
    private static List<String> files(Path work, List<String> outputs) throws IOException {
        List<String> files = new java.util.ArrayList<>();
        for (String output : outputs) {
            Path dir = work.resolve(output).normalize();
            if (!output.endsWith("/")) files.add(output);
            else if (dir.startsWith(work) && Files.isDirectory(dir)) {
                try (var listed = Files.list(dir)) {
                    listed.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                            .map(p -> output + p.getFileName())
                            .sorted()
                            .forEach(files::add);
                }
            }
        }
        return files;
    }

    /** The checkout as the server had it: the zip's files, then the modes and symlinks the job lists. */
    private void restore(AgentViews.BuildJob job, Path work) throws IOException, InterruptedException {
        Files.createDirectories(work);
        HttpResponse<InputStream> r = http.send(
                request("/jobs/" + job.id() + "/source").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() != 200) {
            r.body().close();
            throw new IOException("fetching the checkout of build " + job.id() + " answered HTTP " + r.statusCode());
        }
        // The same checks as the server's own checkout: a job could come from anyone holding the server's address.
        Checkout checkout = new Checkout(work);
        java.util.Set<String> executables = new java.util.HashSet<>(job.executables());
        try (ZipInputStream zip = new ZipInputStream(r.body())) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                checkout.file(e.getName(), zip, executables.contains(e.getName()));
            }
        }
        for (Map.Entry<String, String> link : job.symlinks().entrySet()) {
            checkout.symlink(link.getKey(), link.getValue());
        }
    }

    /** Sends what the build printed every {@link #FLUSH}, and an empty heartbeat when it printed nothing for {@link #HEARTBEAT}. */
    private void sendOutput(AgentViews.BuildJob job, StringBuilder pending, AtomicBoolean over) {
        long lastSent = System.nanoTime();
        while (!over.get()) {
            try {
                Thread.sleep(FLUSH);
                boolean any;
                synchronized (pending) {
                    any = !pending.isEmpty();
                }
                if (any || System.nanoTime() - lastSent > HEARTBEAT.toNanos()) {
                    flush(job, pending);
                    lastSent = System.nanoTime();
                }
            } catch (InterruptedException e) {
                return;
            } catch (IOException e) {
                log.accept("build worker: could not send output of " + job.id() + ": " + e.getMessage());
            }
        }
    }

    private void flush(AgentViews.BuildJob job, StringBuilder pending) throws IOException, InterruptedException {
        String text;
        synchronized (pending) {
            text = pending.toString();
            pending.setLength(0);
        }
        http.send(
                request("/jobs/" + job.id() + "/log")
                        .POST(HttpRequest.BodyPublishers.ofString(text))
                        .build(),
                HttpResponse.BodyHandlers.discarding());
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(server.resolve("/api/v1/workers/" + name + path))
                .header("Authorization", "Bearer " + token);
    }
}
