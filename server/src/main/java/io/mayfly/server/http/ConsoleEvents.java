package io.mayfly.server.http;

import io.javalin.http.sse.SseClient;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/**
 * Follows a growing log file as server-sent events: each batch of whole new lines is one {@code line} event whose
 * data is the lines as escaped HTML (htmx appends it to a {@code <pre>}). When {@code finished} says no more will be
 * written and the file is read to its end, a {@code done} event carries {@code doneHtml} and the stream ends.
 */
public final class ConsoleEvents {
    private static final int MAX_BATCH = 64 * 1024;

    private ConsoleEvents() {}

    public static void follow(
            SseClient client,
            Path file,
            long from,
            BooleanSupplier finished,
            java.util.function.Supplier<String> doneHtml)
            throws InterruptedException {
        long offset = Math.max(0, from);
        while (!client.terminated()) {
            boolean over = finished.getAsBoolean(); // read before the file, so nothing written after it is missed
            long read = send(client, file, offset, over);
            offset += read;
            if (read == 0) {
                if (over) {
                    client.sendEvent("done", doneHtml.get());
                    return;
                }
                client.sendComment("");
                Thread.sleep(250);
            }
        }
    }

    /** Sends the whole lines after offset (the unfinished last line too when the file is complete); returns the bytes sent. */
    private static long send(SseClient client, Path file, long offset, boolean complete) {
        if (!Files.isRegularFile(file)) return 0;
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long size = f.length();
            if (size <= offset) return 0;
            byte[] buf = new byte[(int) Math.min(MAX_BATCH, size - offset)];
            f.seek(offset);
            f.readFully(buf);
            int end = buf.length;
            if (!complete || end == MAX_BATCH) {
                while (end > 0 && buf[end - 1] != '\n') end--;
                if (end == 0 && buf.length < MAX_BATCH) return 0; // wait for the rest of the line
                if (end == 0) end = buf.length; // a line longer than a batch goes in pieces
            }
            client.sendEvent(
                    "line",
                    Html.esc(new String(buf, 0, end, StandardCharsets.UTF_8)).replace("\n", "&#10;"));
            return end;
        } catch (IOException e) {
            return 0;
        }
    }

    /** The text of a log's last bytes before {@code end}: at most {@code max} of them (a cut character at the start is replaced). */
    public static String tail(Path file, long end, long max) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long stop = Math.min(end, f.length());
            long start = Math.max(0, stop - max);
            byte[] b = new byte[(int) (stop - start)];
            f.seek(start);
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8);
        }
    }
}
