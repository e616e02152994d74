package io.mayfly.agent.driver;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An instance's console log holds what its guest printed and a few lines Mayfly wrote itself, which start with one
 * of {@link #PREFIXES}: a console health check never counts those, and an error quotes only the guest's.
 */
public final class ConsoleLines {
    /** How Mayfly's own lines in a console start: the drivers' notes, and the process driver's warnings. */
    public static final List<String> PREFIXES = List.of("mayfly: ", "[mayfly] ");
    /** The most of a console's end read to find its last lines. */
    private static final int TAIL_BYTES = 16 * 1024;

    private ConsoleLines() {}

    public static boolean isMayflys(String line) {
        for (String prefix : PREFIXES) if (line.startsWith(prefix)) return true;
        return false;
    }

    /** The last {@code count} lines the guest printed after byte {@code from} (Mayfly's own left out), oldest first. */
    public static List<String> last(Path log, long from, int count) {
        try {
            if (!Files.exists(log)) return List.of();
            try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
                long start = Math.max(from, f.length() - TAIL_BYTES);
                byte[] bytes = new byte[(int) Math.max(0, f.length() - start)];
                f.seek(start);
                f.readFully(bytes);
                String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n");
                List<String> guest = new ArrayList<>();
                for (int i = start > from ? 1 : 0; i < lines.length; i++) { // a line cut by the start is not quoted
                    String line = lines[i].replace("\r", "");
                    if (!line.isBlank() && !isMayflys(line))
                        guest.add(line.length() > 300 ? line.substring(0, 300) + "..." : line);
                    // A Linux guest's panic says why in one line; the register dump after it says nothing to the user.
                    if (line.contains("Kernel panic - not syncing")) break;
                }
                return List.copyOf(guest.subList(Math.max(0, guest.size() - count), guest.size()));
            }
        } catch (IOException e) {
            return List.of();
        }
    }

    /** A console log read as it grows, line by line, from a byte offset: what a watcher of a booting guest reads. */
    public static final class Tail {
        /** The most read at once; a guest that prints more between two reads has the rest read next time. */
        private static final int MAX_READ = 1 << 20;

        private final Path log;
        private long offset;
        private final StringBuilder partial = new StringBuilder();

        public Tail(Path log, long from) {
            this.log = log;
            this.offset = from;
        }

        /** The whole lines written since the last read (without their line ends), oldest first. */
        public List<String> read() {
            try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
                long length = f.length();
                if (length > offset) {
                    byte[] bytes = new byte[(int) Math.min(length - offset, MAX_READ)];
                    f.seek(offset);
                    f.readFully(bytes);
                    offset += bytes.length;
                    partial.append(new String(bytes, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                // not there yet
            }
            List<String> lines = new ArrayList<>();
            int end;
            while ((end = partial.indexOf("\n")) >= 0) {
                lines.add(partial.substring(0, end).replace("\r", ""));
                partial.delete(0, end + 1);
            }
            return lines;
        }

        /** What was written after the last line end: a guest's first bytes need not end a line. */
        public String partial() {
            return partial.toString();
        }
    }
}
