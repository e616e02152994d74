package io.mayfly.server.http;

import io.javalin.http.Context;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * How much a request may carry, and the one way a bounded body is read. JSON and forms: {@link #MAX_BODY} (Javalin's
 * own limit, so every {@code ctx.body()} and form parameter stops there); webhook deliveries: {@link #MAX_WEBHOOK_BODY};
 * artifact uploads, a build worker's outputs and git pushes: {@code mayfly server --max-upload}, read as a stream and
 * never held in memory. A body past its limit is answered 413 before anything changes.
 */
public final class RequestBodies {
    /** JSON and form bodies: far above any request the API and the dashboard make. */
    public static final long MAX_BODY = 4L << 20;
    /** A webhook delivery: GitHub's own cap on a payload (a push of many commits lists them all). */
    public static final long MAX_WEBHOOK_BODY = 25L << 20;

    private RequestBodies() {}

    /** The whole body, at most {@code max} bytes; a 413 otherwise (said before reading when the client declared its size). */
    public static byte[] read(Context ctx, long max) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > max) throw tooLarge(ctx, max);
        try (InputStream in = limited(ctx.req().getInputStream(), max)) {
            return in.readAllBytes();
        } catch (TooLarge e) {
            throw tooLarge(ctx, max);
        } catch (IOException e) {
            throw new ApiError(
                    400, "the request body was cut off (" + e.getMessage() + "); nothing was changed", "send it again");
        }
    }

    /** {@code in}, throwing {@link TooLarge} once more than {@code max} bytes have passed. */
    public static InputStream limited(InputStream in, long max) {
        return new Limited(in, max);
    }

    /** The 413 for a body past {@code max} bytes on this request's endpoint. */
    public static ApiError tooLarge(Context ctx, long max) {
        return new ApiError(
                413,
                "the request body is larger than " + ctx.method() + " " + ctx.path() + " takes (at most " + human(max)
                        + "); nothing was changed",
                max >= MAX_WEBHOOK_BODY
                        ? "send less"
                        : "send less; build images go to POST /api/v1/apps/APP/builds (mayfly builds:upload), up to mayfly server --max-upload");
    }

    public static String human(long bytes) {
        if (bytes >= 1L << 30 && bytes % (1L << 30) == 0) return (bytes >> 30) + " GiB";
        if (bytes >= 1L << 20 && bytes % (1L << 20) == 0) return (bytes >> 20) + " MiB";
        if (bytes >= 1L << 10 && bytes % (1L << 10) == 0) return (bytes >> 10) + " KiB";
        return bytes + " bytes";
    }

    /** More than the limit arrived; {@link #read} is how many bytes had. */
    public static final class TooLarge extends IOException {
        private final long read;

        TooLarge(long read) {
            super("more than the limit");
            this.read = read;
        }

        public long read() {
            return read;
        }
    }

    /** Counts what passes and stops past the limit, so an oversized body is refused without being stored. */
    private static final class Limited extends FilterInputStream {
        private final long max;
        private long read;

        Limited(InputStream in, long max) {
            super(in);
            this.max = max;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) count(1);
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            if (n > 0) count(n);
            return n;
        }

        private void count(long n) throws TooLarge {
            read += n;
            if (read > max) throw new TooLarge(read);
        }
    }
}
