package io.mayfly.agent.router;

/**
 * Keeps a flood of like events from flooding an app's log: at most one line per window; the events in between are
 * held back and written as one line, with their count, when the window ends. Decisions only: the caller reads the
 * clock, writes the lines and runs {@link #flush} when told to. Thread-safe (events come from every event loop).
 */
final class EventThrottle {
    private final long windowNanos;
    private boolean written;
    private long lastWrittenNanos;
    private int held;
    private String latestHeld;
    private boolean flushDue;

    EventThrottle(long windowNanos) {
        this.windowNanos = windowNanos;
    }

    /** The line to write now for this event, or null when it is held back (then see {@link #flushDelay}). */
    synchronized String offer(String line, long nowNanos) {
        if (written && nowNanos - lastWrittenNanos < windowNanos) {
            held++;
            latestHeld = line;
            return null;
        }
        written = true;
        lastWrittenNanos = nowNanos;
        String out = withHeld(line, held);
        held = 0;
        latestHeld = null;
        return out;
    }

    /** After an event was held back: in how many nanoseconds the caller must run {@link #flush}; -1 if one is due already. */
    synchronized long flushDelay(long nowNanos) {
        if (flushDue) {
            return -1;
        }
        flushDue = true;
        return Math.max(0, lastWrittenNanos + windowNanos - nowNanos);
    }

    /** The line for the events held back since the last one written, or null if there are none (any more). */
    synchronized String flush(long nowNanos) {
        flushDue = false;
        if (held == 0) {
            return null;
        }
        lastWrittenNanos = nowNanos;
        String out = withHeld(latestHeld, held - 1);
        held = 0;
        latestHeld = null;
        return out;
    }

    private static String withHeld(String line, int others) {
        return others == 0 ? line : line + " (and " + others + " more since the last report)";
    }
}
