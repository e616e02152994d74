package io.mayfly.agent;

import io.mayfly.agent.driver.InstanceStateFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's {@code instances} directory: one directory per instance, named {@code APP-vN-HEX}, holding its state
 * file, its launch file and its console log. A stopped instance keeps its directory (its console log, for mayfly logs)
 * until {@value #KEEP_STOPPED} newer stopped instances of its app push it out.
 */
final class InstanceDirs {
    private static final Logger log =
            LoggerFactory.getLogger(Agent.class); // its lines read as the agent's, as they always did
    /** How many stopped instances of each app keep their directory (console log) for mayfly logs. */
    static final int KEEP_STOPPED = 10;

    private final Path root;

    InstanceDirs(Path root) throws IOException {
        this.root = Files.createDirectories(root);
    }

    Path root() {
        return root;
    }

    /** The directory of the instance {@code id}. */
    Path of(String id) {
        return root.resolve(id);
    }

    /** Forgets the instance's state file: a restarted agent does not try to re-adopt it. Best effort. */
    void deleteState(String id) {
        deleteQuietly(of(id).resolve(InstanceStateFile.NAME));
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: a stale state file is ignored by recover() when its process is gone
        }
    }

    /** After an instance of {@code app} stopped: keeps only the newest stopped directories. Best effort. */
    void pruneStopped(String app, Set<String> live) {
        try {
            pruneStopped(root, app, KEEP_STOPPED, live);
        } catch (IOException e) {
            // best effort: tried again at the next stop
        }
    }

    /** After the app was removed: deletes the directories of all its stopped instances, console logs with them. */
    void removeStopped(String app, Set<String> live) {
        try {
            pruneStopped(root, app, 0, live);
        } catch (IOException e) {
            log.warn("cannot remove the instance directories of {}: {}", app, e.toString());
        }
    }

    Optional<Path> consoleLog(String instanceId) {
        Path p = of(instanceId).resolve("console.log");
        return Files.exists(p) ? Optional.of(p) : Optional.empty();
    }

    /** All console logs of an app's instances, kept after the instances stop. */
    List<Path> consoleLogs(String app) throws IOException {
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(d -> ofApp(d, app))
                    .map(d -> d.resolve("console.log"))
                    .filter(Files::exists)
                    .sorted()
                    .toList();
        }
    }

    /** Whether {@code dir} is the directory of an instance of {@code app}: {@code APP-vN-HEX}. */
    static boolean ofApp(Path dir, String app) {
        String name = dir.getFileName().toString();
        return name.startsWith(app + "-v") && name.substring(app.length()).matches("-v\\d+-[0-9a-f]+");
    }

    /**
     * Deletes the directories of the app's stopped instances (no state file, not in {@code live}) but the {@code keep}
     * newest, by when their console log was last written. Returns how many it deleted.
     */
    static int pruneStopped(Path instances, String app, int keep, Set<String> live) throws IOException {
        List<Path> stopped;
        try (Stream<Path> dirs = Files.list(instances)) {
            stopped = dirs.filter(d -> ofApp(d, app)
                            && !live.contains(d.getFileName().toString())
                            && !Files.exists(d.resolve(InstanceStateFile.NAME)))
                    .sorted(Comparator.comparing(InstanceDirs::lastWritten).reversed())
                    .toList();
        }
        int deleted = 0;
        for (Path d : stopped.subList(Math.min(keep, stopped.size()), stopped.size())) {
            try (Stream<Path> walk = Files.walk(d)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
            deleted++;
        }
        return deleted;
    }

    private static FileTime lastWritten(Path instanceDir) {
        try {
            Path console = instanceDir.resolve("console.log");
            return Files.getLastModifiedTime(Files.exists(console) ? console : instanceDir);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    /** The size of {@code file}, 0 if there is none yet: where a new start's output begins in a console log. */
    static long sizeOf(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }
}
