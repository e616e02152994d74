package io.mayfly.agent.remote;

import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Progress;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a deploy says as it goes, sent to the server as it happens so that the push waiting for it shows each
 * step then. The deploy does not wait for the server: lines queue and a sender posts what has queued in one
 * request; before the report, the queue is flushed, and lines the server could not take go with the report.
 */
final class PushLines implements Progress {
    private static final Duration FLUSH_WAIT = Duration.ofSeconds(5);
    private final ServerApi api;
    private final AgentViews.Assignment assignment;
    private final LineQueue lines = new LineQueue();

    PushLines(ServerApi api, AgentViews.Assignment assignment) {
        this.api = api;
        this.assignment = assignment;
    }

    @Override
    public synchronized void say(String line) {
        if (!assignment.deploying()) return; // nobody waits for it
        if (lines.add(line))
            Thread.ofVirtual().name("lines-" + assignment.app()).start(this::drain);
    }

    private void drain() {
        while (true) {
            List<String> batch;
            synchronized (this) {
                batch = lines.nextBatch();
                if (batch == null) {
                    notifyAll();
                    return;
                }
            }
            boolean shown = false;
            try {
                HttpResponse<String> r =
                        api.lines(new AgentViews.DeployLines(assignment.app(), assignment.release(), batch));
                shown = r.statusCode() / 100 == 2;
            } catch (IOException e) {
                // the server is away: the lines go with the report
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (!shown) {
                synchronized (this) {
                    lines.notShown(batch);
                }
            }
        }
    }

    /**
     * The lines for the report: those still queued go with it rather than in a request of their own, after
     * waiting (a little) for the batch on its way, so that the push shows everything in order.
     */
    synchronized List<String> undelivered() throws InterruptedException {
        List<String> last = lines.takeQueued();
        long deadline = System.nanoTime() + FLUSH_WAIT.toNanos();
        while (lines.sending() && System.nanoTime() < deadline) {
            TimeUnit.NANOSECONDS.timedWait(this, deadline - System.nanoTime());
        }
        return lines.forReport(last);
    }
}
