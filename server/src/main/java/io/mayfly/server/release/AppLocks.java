package io.mayfly.server.release;

import io.mayfly.wire.Phases;
import io.mayfly.wire.Progress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/** One deploy per app at a time: a second push or rollback waits for the first, up to a bound. */
public final class AppLocks {
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private final Duration maxWait;

    public AppLocks(Duration maxWait) {
        this.maxWait = maxWait;
    }

    public interface Locked<T> {
        T run() throws Exception;
    }

    /** Runs the work holding the app's lock; throws {@link Busy} if another deploy holds it for longer than the bound. */
    public <T> T with(String app, Progress progress, Locked<T> work) throws Exception {
        ReentrantLock lock = locks.computeIfAbsent(app, a -> new ReentrantLock(true));
        if (!lock.tryLock()) {
            progress.say("-----> Another deploy of " + app + " is running; waiting up to "
                    + Phases.human(maxWait.toMillis()) + " for it to finish");
            if (!lock.tryLock(maxWait.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new Busy("another deploy of " + app + " is still running after "
                        + Phases.human(maxWait.toMillis()) + "; try again when it finishes");
            }
        }
        try {
            return work.run();
        } finally {
            lock.unlock();
        }
    }

    public static final class Busy extends Exception {
        public Busy(String message) {
            super(message);
        }
    }
}
