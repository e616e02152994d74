package io.mayfly.server.web;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Streams an app's logs as text: the last lines of each log file, each line prefixed with its source, then
 * (when following) whatever is appended, including files that appear later such as a new instance's console.
 */
public final class LogStream {
    /** A log file and the name its lines are shown under. */
    public record Source(String name, Path file) {}

    private LogStream() {}

    public static void write(
            Supplier<List<Source>> sources, int lines, boolean follow, Duration maxFollow, OutputStream out)
            throws IOException, InterruptedException {
        Map<Path, Long> offsets = new LinkedHashMap<>();
        for (Source s : sources.get()) {
            for (String line : tail(s.file(), lines)) {
                out.write((s.name() + "| " + line + "\n").getBytes(StandardCharsets.UTF_8));
            }
            offsets.put(s.file(), size(s.file()));
        }
        out.flush();
        long deadline = System.nanoTime() + maxFollow.toNanos();
        while (follow && System.nanoTime() < deadline) {
            Thread.sleep(200);
            boolean wrote = false;
            for (Source s : sources.get()) {
                long from = offsets.getOrDefault(s.file(), 0L);
                long to = size(s.file());
                if (to > from) {
                    for (String line : read(s.file(), from, to).split("\n")) {
                        if (!line.isEmpty())
                            out.write((s.name() + "| " + line + "\n").getBytes(StandardCharsets.UTF_8));
                    }
                    wrote = true;
                }
                offsets.put(s.file(), Math.max(from, to));
            }
            if (wrote) out.flush();
        }
    }

    static List<String> tail(Path file, int lines) throws IOException {
        if (!Files.exists(file) || lines <= 0) return List.of();
        Deque<String> last = new ArrayDeque<>();
        try (var reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                last.addLast(line);
                if (last.size() > lines) last.removeFirst();
            }
        } catch (java.nio.charset.MalformedInputException e) {
            return List.of("(log is not UTF-8 text)");
        }
        return List.copyOf(last);
    }

    private static long size(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static String read(Path file, long from, long to) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            byte[] buf = new byte[(int) Math.min(to - from, 1 << 20)];
            raf.seek(from);
            raf.readFully(buf);
            return new String(buf, StandardCharsets.UTF_8);
        }
    }
}
