package io.mayfly.server.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.jdbi.v3.core.Jdbi;

/**
 * Retention: keeps the last N builds of each app, every build a release names (so every release can be rolled
 * back to) and builds still running; removes the rest, then every blob no artifact names any more (blobs are
 * shared across apps, so a blob goes only when nothing anywhere names it). Rows go first, in one transaction, then
 * files: a crash in between leaves only unnamed files, which the next prune removes.
 */
public final class Retention {
    /** A file on disk that no row names is removed only past this age: it may be a blob whose row is being written. */
    private static final Duration ORPHAN_AGE = Duration.ofMinutes(10);

    public record Removed(String app, int build) {}

    public record Report(boolean dryRun, List<Removed> builds, int blobs, long bytes) {}

    private record Named(Removed build, String sha256) {}

    private final Jdbi db;
    private final ContentAddressedBlobs blobs;
    private final Path buildLogs;

    public Retention(Jdbi db, ContentAddressedBlobs blobs, Path buildLogs) {
        this.db = db;
        this.blobs = blobs;
        this.buildLogs = buildLogs;
    }

    public synchronized Report prune(int keep, boolean dryRun) throws IOException {
        List<Removed> builds = db.withHandle(h -> h.select("""
                SELECT b.app, b.number FROM builds b
                WHERE b.status <> 'running'
                  AND NOT EXISTS (SELECT 1 FROM releases r WHERE r.app = b.app AND r.build = b.number)
                  AND (SELECT COUNT(*) FROM builds newer WHERE newer.app = b.app AND newer.number > b.number) >= ?
                ORDER BY b.app, b.number""", keep)
                .map((rs, ctx) -> new Removed(rs.getString(1), rs.getInt(2)))
                .list());
        Set<Removed> removed = new HashSet<>(builds);
        Set<String> stillNamed = new HashSet<>();
        db.useHandle(h -> h.select("SELECT app, build, sha256 FROM artifacts")
                .map((rs, ctx) -> new Named(new Removed(rs.getString(1), rs.getInt(2)), rs.getString(3)))
                .forEach(n -> {
                    if (!removed.contains(n.build())) stillNamed.add(n.sha256());
                }));
        Map<String, Long> sizes = new HashMap<>();
        db.useHandle(h -> h.select("SELECT sha256, size FROM blobs")
                .map((rs, ctx) -> Map.entry(rs.getString(1), rs.getLong(2)))
                .forEach(e -> sizes.put(e.getKey(), e.getValue())));
        Set<String> doomed = new HashSet<>(sizes.keySet());
        doomed.removeAll(stillNamed);
        long bytes = 0;
        for (String sha : doomed) bytes += sizes.get(sha);
        List<Path> orphans = orphanFiles();
        for (Path p : orphans) bytes += Files.size(p);
        if (dryRun) return new Report(true, builds, doomed.size() + orphans.size(), bytes);

        db.useTransaction(h -> {
            for (Removed b : builds) {
                h.execute("DELETE FROM artifacts WHERE app = ? AND build = ?", b.app(), b.build());
                h.execute(
                        "DELETE FROM rebuilds WHERE app = ? AND (build = ? OR rebuild = ?)",
                        b.app(),
                        b.build(),
                        b.build());
                h.execute("DELETE FROM builds WHERE app = ? AND number = ?", b.app(), b.build());
            }
            for (String sha : doomed) {
                h.execute(
                        "DELETE FROM blobs WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM artifacts WHERE sha256 = ?)",
                        sha,
                        sha);
            }
        });
        for (String sha : doomed) blobs.delete(sha);
        for (Path p : orphans) Files.deleteIfExists(p);
        for (Removed b : builds)
            Files.deleteIfExists(buildLogs.resolve(b.app()).resolve("build-" + b.build() + ".log"));
        return new Report(false, builds, doomed.size() + orphans.size(), bytes);
    }

    /** Blob files that no blob row names, older than {@link #ORPHAN_AGE}. */
    private List<Path> orphanFiles() throws IOException {
        Set<String> named = new HashSet<>(db.withHandle(
                h -> h.select("SELECT sha256 FROM blobs").mapTo(String.class).list()));
        Instant before = Instant.now().minus(ORPHAN_AGE);
        List<Path> orphans = new ArrayList<>();
        Path root = blobs.path("0".repeat(64)).getParent().getParent();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                if (!named.contains(p.getFileName().toString())
                        && Files.getLastModifiedTime(p).toInstant().isBefore(before)) orphans.add(p);
            }
        }
        return orphans;
    }
}
