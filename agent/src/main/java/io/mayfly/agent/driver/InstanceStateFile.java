package io.mayfly.agent.driver;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import io.mayfly.wire.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Reads and writes {@link InstanceState} as JSON. A write is all or nothing (temporary file, fsync, atomic
 * rename, fsync of the directory), so an agent that crashes mid-write leaves the previous state, never half a file.
 */
public final class InstanceStateFile {
    /** The file's name inside an instance's state directory. */
    public static final String NAME = "state.json";

    /**
     * {@link Json#MAPPER} writes a Path as a file URI ({@code file:///a%20b}); a person reading the file wants the
     * path itself. Reading accepts both.
     */
    private static final ObjectMapper MAPPER = Json.MAPPER
            .copy()
            .registerModule(new SimpleModule("plain-paths").addSerializer(Path.class, ToStringSerializer.instance));

    private InstanceStateFile() {}

    /** Where the state of the instance whose state directory is {@code stateDir} is kept. */
    public static Path in(Path stateDir) {
        return stateDir.resolve(NAME);
    }

    public static void write(Path file, InstanceState state) throws IOException {
        writeJson(file, state);
    }

    /** Writes any record as JSON atomically and durably: a temporary file, fsync, rename, fsync of the directory. */
    public static void writeJson(Path file, Object value) throws IOException {
        byte[] json = MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(value);
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(
                tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(json);
            while (buffer.hasRemaining()) {
                ch.write(buffer);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        // The rename itself is only durable once the directory entry is on disk.
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    public static InstanceState read(Path file) throws IOException {
        return readJson(file, InstanceState.class);
    }

    public static <T> T readJson(Path file, Class<T> type) throws IOException {
        try {
            return MAPPER.readValue(file.toFile(), type);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(
                    file + " is not valid JSON for " + type.getSimpleName() + ": " + e.getOriginalMessage(), e);
        }
    }

    public static <T> T readJson(Path file, com.fasterxml.jackson.core.type.TypeReference<T> type) throws IOException {
        try {
            return MAPPER.readValue(file.toFile(), type);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IOException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }
}
