package io.mayfly.server.release;

import io.mayfly.server.store.DurableFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** Where an app's build consoles and its event log (releases, deploys, failures) are kept: {@code DATA/logs/APP/}. */
public final class AppLogs {
    private final Path root;

    public AppLogs(Path root) {
        this.root = root;
    }

    public Path dir(String app) {
        return root.resolve(app);
    }

    public Path buildLog(String app, int build) {
        return dir(app).resolve("build-" + build + ".log");
    }

    public Path events(String app) {
        return dir(app).resolve("events.log");
    }

    /** Appends one timestamped line to the app's event log. */
    public synchronized void event(String app, String line) {
        try {
            Files.createDirectories(dir(app));
            Files.writeString(
                    events(app),
                    Instant.now().truncatedTo(ChronoUnit.MILLIS) + " mayfly: " + line + "\n",
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            org.slf4j.LoggerFactory.getLogger(AppLogs.class)
                    .warn("cannot write the event log of {}: {}", app, e.toString());
        }
    }

    /** Where the console logs of the app's instances on remote agents are mirrored, one file per instance. */
    private Path mirrorDir(String app) {
        return dir(app).resolve("agents");
    }

    private Path mirrorOf(String app, String instance) {
        return mirrorDir(app).resolve(instance + ".log");
    }

    /** The mirrored console of one of the app's instances on a remote agent, if its agent sent any. */
    public Optional<Path> consoleMirror(String app, String instance) {
        Path mirror = mirrorOf(app, instance);
        return Files.exists(mirror) ? Optional.of(mirror) : Optional.empty();
    }

    /** Every mirrored console of the app, by instance id, in order of id. */
    public Map<String, Path> consoleMirrors(String app) throws IOException {
        Map<String, Path> mirrors = new TreeMap<>();
        if (!Files.isDirectory(mirrorDir(app))) return mirrors;
        try (var files = Files.list(mirrorDir(app))) {
            files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(".log"))
                    .forEach(n -> mirrors.put(
                            n.substring(0, n.length() - ".log".length()),
                            mirrorDir(app).resolve(n)));
        }
        return mirrors;
    }

    /**
     * Appends an agent's console chunk to the instance's mirror, unless the mirror has it already: the next offset
     * expected is kept beside it. Returns false for a chunk skipped as already there.
     */
    public synchronized boolean mirrorConsole(String app, String instance, long offset, long length, String text)
            throws IOException {
        Path dir = mirrorDir(app);
        Files.createDirectories(dir);
        Path next = dir.resolve(instance + ".next");
        long expected =
                Files.exists(next) ? Long.parseLong(Files.readString(next).strip()) : 0;
        if (offset + length <= expected) return false;
        Files.writeString(
                mirrorOf(app, instance),
                text,
                StandardCharsets.UTF_8,
                StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        Files.writeString(next, Long.toString(offset + length));
        return true;
    }

    public void delete(String app) throws IOException {
        DurableFiles.deleteTree(dir(app));
    }
}
