package io.mayfly.agent.remote;

import io.mayfly.agent.Agent;
import io.mayfly.wire.AgentViews;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The instances' console output on its way to the server, a chunk per instance and heartbeat: it owns which
 * instances' logs are followed and the offset the server has acknowledged in each. Instances that stopped are
 * followed until their log is sent to the end.
 */
final class ConsoleShipper {
    static final int CHUNK = 64 * 1024;

    private final Agent agent;
    /** The app of each instance whose console is followed. */
    private final Map<String, String> apps = new ConcurrentHashMap<>();
    /** The offset the server has up to, per instance. */
    private final Map<String, Long> sent = new ConcurrentHashMap<>();

    ConsoleShipper(Agent agent) {
        this.agent = agent;
    }

    /** What the instances printed since the last acknowledged chunk, up to {@link #CHUNK} bytes each. */
    List<AgentViews.ConsoleChunk> chunks() {
        Map<String, String> running = new LinkedHashMap<>();
        agent.instances().forEach(i -> running.put(i.id(), i.app()));
        apps.putAll(running);
        List<AgentViews.ConsoleChunk> chunks = new ArrayList<>();
        for (var e : List.copyOf(apps.entrySet())) {
            String id = e.getKey();
            long from = sent.getOrDefault(id, 0L);
            Optional<Path> file = agent.consoleLog(id);
            try {
                long size = file.isPresent() ? Files.size(file.get()) : 0;
                if (size <= from) {
                    if (!running.containsKey(id)) { // stopped, and all of it sent
                        apps.remove(id);
                        sent.remove(id);
                    }
                    continue;
                }
                byte[] bytes = new byte[(int) Math.min(CHUNK, size - from)];
                int read;
                try (var channel = FileChannel.open(file.get())) {
                    read = channel.read(ByteBuffer.wrap(bytes), from);
                }
                if (read <= 0) continue;
                int cut = cut(bytes, read, size - from > read);
                chunks.add(new AgentViews.ConsoleChunk(
                        e.getValue(), id, from, cut, new String(bytes, 0, cut, StandardCharsets.UTF_8)));
            } catch (IOException ex) {
                // unreadable now (removed meanwhile): tried again at the next heartbeat
            }
        }
        return chunks;
    }

    /** The server took these chunks: the next ones start after them. */
    void acknowledged(List<AgentViews.ConsoleChunk> chunks) {
        chunks.forEach(c -> sent.put(c.instance(), c.offset() + c.length()));
    }

    /**
     * How much of the {@code read} bytes to send: all of them when nothing follows, else up to the last line end, or
     * at least not inside a UTF-8 character.
     */
    static int cut(byte[] bytes, int read, boolean more) {
        if (!more) return read;
        int newline = lastIndexOf(bytes, (byte) '\n', read);
        return newline >= 0 ? newline + 1 : utf8Boundary(bytes, read);
    }

    private static int lastIndexOf(byte[] bytes, byte b, int end) {
        for (int i = end - 1; i >= 0; i--) if (bytes[i] == b) return i;
        return -1;
    }

    /** The largest length up to {@code end} that does not end inside a UTF-8 sequence. */
    private static int utf8Boundary(byte[] bytes, int end) {
        int i = end;
        while (i > 0 && (bytes[i - 1] & 0xC0) == 0x80) i--; // continuation bytes
        if (i > 0 && (bytes[i - 1] & 0x80) != 0) i--; // the lead byte of the cut sequence
        return i == 0 ? end : i;
    }
}
