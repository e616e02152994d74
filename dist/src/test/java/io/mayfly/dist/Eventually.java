package io.mayfly.dist;

import java.time.Duration;
import java.util.function.Predicate;

/**
 * How the end-to-end tests wait for what happens on its own time (an agent's report, a poll, an idle stop): read
 * again until the reading is as expected, or fail with what was seen last.
 */
final class Eventually {
    @FunctionalInterface
    interface Reading<T> {
        T read() throws Exception;
    }

    private Eventually() {}

    /** The first reading that {@code done} accepts; an AssertionError naming {@code what} and the last reading after {@code bound}. */
    static <T> T until(Duration bound, Reading<T> reading, Predicate<T> done, String what) throws Exception {
        long deadline = System.nanoTime() + bound.toNanos();
        T last = null;
        while (true) {
            last = reading.read();
            if (done.test(last)) return last;
            if (System.nanoTime() > deadline)
                throw new AssertionError(what + " did not happen within " + bound + "; last seen:\n" + last);
            Thread.sleep(100);
        }
    }
}
