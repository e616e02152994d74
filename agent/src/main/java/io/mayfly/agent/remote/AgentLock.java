package io.mayfly.agent.remote;

import io.mayfly.wire.Json;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Optional;

/**
 * One agent per data directory: the agent holds a lock on {@code agent.lock} for its whole life and says who it is
 * in {@code agent.json} beside it. A server finds its embedded agent running this way (the lock is held) and adopts
 * it instead of starting a second; the kernel drops the lock when the agent's process ends, however it ends.
 */
public final class AgentLock implements AutoCloseable {
    /** Who holds the lock: its pid, the Mayfly version it runs and when it started. */
    public record Holder(long pid, String version, Instant startedAt) {}

    private final FileChannel channel;
    private final FileLock lock;

    private AgentLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock of {@code dir} for this process and writes who holds it; empty if another process holds it. */
    public static Optional<AgentLock> acquire(Path dir, String version) throws IOException {
        Files.createDirectories(dir);
        FileChannel channel =
                FileChannel.open(dir.resolve("agent.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            channel.close();
            return Optional.empty();
        }
        Holder me = new Holder(ProcessHandle.current().pid(), version, Instant.now());
        Path tmp = dir.resolve("agent.json.tmp");
        Files.writeString(tmp, Json.write(me));
        Files.move(
                tmp,
                dir.resolve("agent.json"),
                java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return Optional.of(new AgentLock(channel, lock));
    }

    /** The agent running with {@code dir} now, if one does (its lock is held). */
    public static Optional<Holder> running(Path dir) throws IOException {
        Path file = dir.resolve("agent.lock");
        if (!Files.exists(file)) return Optional.empty();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            FileLock probe;
            try {
                probe = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                probe = null; // this JVM holds it
            }
            if (probe != null) {
                probe.release();
                return Optional.empty();
            }
        }
        Path json = dir.resolve("agent.json");
        if (!Files.exists(json)) return Optional.of(new Holder(-1, "unknown", null));
        return Optional.of(Json.MAPPER.readValue(json.toFile(), Holder.class));
    }

    @Override
    public void close() throws IOException {
        lock.release();
        channel.close();
    }
}
