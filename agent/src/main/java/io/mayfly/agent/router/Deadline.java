package io.mayfly.agent.router;

import io.netty.channel.EventLoop;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One connection's timeout, re-armed for each wait of its life (a request head, a body, an answer, the next request).
 * Arming only moves the deadline: one check scheduled on the connection's event loop runs when the earliest deadline
 * may have passed and schedules itself again if the deadline moved on, so a request costs a clock read, not a timer
 * scheduled and cancelled. Used on its event loop only.
 */
final class Deadline implements Runnable {
    private final EventLoop loop;
    private final Runnable expired;
    private boolean armed;
    private long at;
    private long timeoutNanos;
    /** The pending check, and when it runs; null when none is pending. */
    private ScheduledFuture<?> check;

    private long checkAt;

    Deadline(EventLoop loop, Runnable expired) {
        this.loop = loop;
        this.expired = expired;
    }

    /** Runs {@code expired} once {@code timeoutNanos} pass from now, unless armed again or disarmed before. */
    void arm(long timeoutNanos) {
        long now = System.nanoTime();
        this.timeoutNanos = timeoutNanos;
        at = now + timeoutNanos;
        armed = true;
        if (check == null) {
            schedule(now);
        } else if (at - checkAt < 0) {
            // Shorter than what the pending check waits for (a body after an idle wait): rare, once per check at most.
            check.cancel(false);
            schedule(now);
        }
    }

    /** Arms again with the last timeout, counted from now: progress was made. */
    void extend() {
        arm(timeoutNanos);
    }

    void disarm() {
        armed = false;
    }

    boolean isArmed() {
        return armed;
    }

    /** Disarms and drops the pending check: the connection closed, and nothing should keep it in the loop's queue. */
    void cancel() {
        armed = false;
        if (check != null) {
            check.cancel(false);
            check = null;
        }
    }

    @Override
    public void run() {
        check = null;
        if (!armed) {
            return;
        }
        long now = System.nanoTime();
        if (at - now > 0) {
            schedule(now);
            return;
        }
        armed = false;
        expired.run();
    }

    private void schedule(long now) {
        checkAt = at;
        check = loop.schedule(this, at - now, TimeUnit.NANOSECONDS);
    }
}
