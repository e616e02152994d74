package io.mayfly.agent.remote;

import java.util.ArrayList;
import java.util.List;

/**
 * The batching of a deploy's lines for the push that waits for them, without the threads: lines queue while one
 * batch is on its way, the next batch is whatever queued meanwhile, and batches the server did not show go with the
 * deploy's report, before the lines still queued then. Not thread-safe: {@link PushLines} holds its lock around it.
 */
final class LineQueue {
    private final List<String> queued = new ArrayList<>();
    private final List<String> undelivered = new ArrayList<>();
    private boolean sending;

    /** Queues a line; true if no sender is on its way, and one must start. */
    boolean add(String line) {
        queued.add(line);
        if (sending) return false;
        sending = true;
        return true;
    }

    /** What the sender posts next, or null when nothing queued: the sender is done, and the next line starts one. */
    List<String> nextBatch() {
        if (queued.isEmpty()) {
            sending = false;
            return null;
        }
        List<String> batch = List.copyOf(queued);
        queued.clear();
        return batch;
    }

    /** The server did not show this batch: it goes with the report. */
    void notShown(List<String> batch) {
        undelivered.addAll(batch);
    }

    /** Whether a batch is on its way (the report waits for it, a little). */
    boolean sending() {
        return sending;
    }

    /** Takes the lines no sender has taken: they go with the report rather than in a request of their own. */
    List<String> takeQueued() {
        List<String> last = List.copyOf(queued);
        queued.clear();
        return last;
    }

    /** The lines for the report: those the server did not show, then {@code last} (from {@link #takeQueued}). */
    List<String> forReport(List<String> last) {
        undelivered.addAll(last);
        return List.copyOf(undelivered);
    }
}
