package io.mayfly.server.registry;

import io.javalin.http.Context;
import io.mayfly.server.store.Builds;
import io.mayfly.server.store.ContentAddressedBlobs;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a stored artifact's bytes: {@code ETag} and {@code Digest} from its sha256, a single {@code Range},
 * {@code If-None-Match}. The blob is re-hashed before the first byte goes out, so bytes that no longer match
 * their recorded hash are never served; the file is streamed, never held in memory.
 */
final class ArtifactDownload {
    private static final Logger log = LoggerFactory.getLogger(ArtifactDownload.class);
    private static final int CHUNK = 64 * 1024;

    private final ContentAddressedBlobs blobs;

    ArtifactDownload(ContentAddressedBlobs blobs) {
        this.blobs = blobs;
    }

    /** A stored blob that failed its check; the message is for the person downloading. */
    static final class CorruptArtifact extends Exception {
        CorruptArtifact(String message, Throwable cause) {
            super(message, cause);
        }
    }

    void send(Context ctx, Builds.Build build, Builds.Artifact artifact) throws IOException, CorruptArtifact {
        HttpServletResponse res = ctx.res();
        String etag = "\"" + artifact.sha256() + "\"";
        res.setHeader("ETag", etag);
        res.setHeader(
                "Digest",
                "sha-256=" + Base64.getEncoder().encodeToString(HexFormat.of().parseHex(artifact.sha256())));
        res.setHeader("Accept-Ranges", "bytes");
        // The bytes under a build number never change; only /build/latest moves, and that is a redirect.
        res.setHeader("Cache-Control", "private, max-age=31536000, immutable");
        if (matches(ctx.header("If-None-Match"), etag)) {
            res.setStatus(304);
            return;
        }

        Path file;
        try {
            file = blobs.verify(artifact.sha256());
        } catch (IOException e) {
            log.error(
                    "refusing to serve artifact {} (sha256:{}) of {} build #{}: {}",
                    artifact.name(),
                    artifact.sha256(),
                    build.app(),
                    build.number(),
                    e.getMessage());
            throw new CorruptArtifact(
                    "the stored artifact " + artifact.name() + " of " + build.app() + " build #" + build.number()
                            + " is corrupt or missing and was not served: " + e.getMessage(),
                    e);
        }

        long size = artifact.size();
        String ifRange = ctx.header("If-Range");
        ByteRange.Request request = ifRange == null || ifRange.strip().equals(etag)
                ? ByteRange.parse(ctx.header("Range"), size)
                : new ByteRange.Request.Whole();
        res.setContentType("application/octet-stream");
        res.setHeader("Content-Disposition", "attachment; filename=\"" + fileName(artifact.name()) + "\"");
        switch (request) {
            case ByteRange.Request.Unsatisfiable u -> {
                res.setStatus(416);
                res.setHeader("Content-Range", "bytes */" + size);
                res.setContentLengthLong(0);
            }
            case ByteRange.Request.Whole w -> {
                res.setStatus(200);
                res.setContentLengthLong(size);
                if (!ctx.method().name().equals("HEAD")) copy(file, 0, size, res.getOutputStream());
            }
            case ByteRange.Request.Partial p -> {
                res.setStatus(206);
                res.setHeader("Content-Range", p.range().contentRange(size));
                res.setContentLengthLong(p.range().length());
                if (!ctx.method().name().equals("HEAD"))
                    copy(file, p.range().start(), p.range().length(), res.getOutputStream());
            }
        }
    }

    private static void copy(Path file, long start, long length, OutputStream out) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
                InputStream in = Channels.newInputStream(channel.position(start))) {
            byte[] buffer = new byte[CHUNK];
            long left = length;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) throw new IOException(file + " ended " + left + " bytes early");
                out.write(buffer, 0, n);
                left -= n;
            }
        }
        out.flush();
    }

    static boolean matches(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null) return false;
        return Arrays.stream(ifNoneMatch.split(","))
                .map(String::strip)
                .map(tag -> tag.startsWith("W/") ? tag.substring(2) : tag)
                .anyMatch(tag -> tag.equals("*") || tag.equals(etag));
    }

    /** The last path segment, with quotes and control characters removed so it stays one header value. */
    private static String fileName(String name) {
        return name.substring(name.lastIndexOf('/') + 1).replaceAll("[\"\\\\\\p{Cntrl}]", "_");
    }
}
