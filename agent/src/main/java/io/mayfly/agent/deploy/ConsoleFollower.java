package io.mayfly.agent.deploy;

import io.mayfly.agent.Instance;
import io.mayfly.agent.driver.ConsoleLines;
import io.mayfly.wire.Progress;
import java.time.Duration;
import java.util.Optional;

/**
 * While an instance's health check waits, says what its guest prints, so that a slow boot (a VM under emulation)
 * is never a silent wait in the push. Nothing for a guest healthy within {@link Pace#AFTER}; then at most one line
 * each {@link Pace#EVERY} (the newest the guest printed since the last one said) and {@link Pace#MAX_LINES} in all;
 * Mayfly's own lines never.
 */
final class ConsoleFollower implements AutoCloseable {
    private static final long POLL_MILLIS = 200;
    private static final int MAX_LINE = 200;

    private final Thread thread;

    private ConsoleFollower(Thread thread) {
        this.thread = thread;
    }

    /** Follows {@code instance}'s console from where this start's output begins until {@link #close}. */
    static ConsoleFollower follow(Instance instance, Progress progress) {
        ConsoleLines.Tail tail = new ConsoleLines.Tail(instance.handle().state().logFile(), instance.consoleFrom());
        long began = System.nanoTime();
        return new ConsoleFollower(Thread.ofVirtual()
                .name("console-" + instance.id())
                .start(() -> {
                    Pace pace = new Pace();
                    while (!pace.done()) {
                        try {
                            Thread.sleep(POLL_MILLIS);
                        } catch (InterruptedException e) {
                            return;
                        }
                        tail.read().stream()
                                .filter(l -> !l.isBlank() && !ConsoleLines.isMayflys(l))
                                .forEach(pace::printed);
                        pace.due(Duration.ofNanos(System.nanoTime() - began))
                                .ifPresent(line -> progress.say("       console: "
                                        + (line.length() > MAX_LINE ? line.substring(0, MAX_LINE) + "..." : line)));
                    }
                }));
    }

    /** Stops following; returns once nothing more is said. */
    @Override
    public void close() {
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Which printed line to say when: the decision, apart from the reading and the clock. */
    static final class Pace {
        static final Duration AFTER = Duration.ofSeconds(2);
        static final Duration EVERY = Duration.ofSeconds(1);
        static final int MAX_LINES = 10;

        private String newest;
        private int said;
        private Duration next = AFTER;

        void printed(String line) {
            newest = line.strip();
        }

        /** The line to say now, {@code elapsed} after the wait began, if one is due. */
        Optional<String> due(Duration elapsed) {
            if (newest == null || said >= MAX_LINES || elapsed.compareTo(next) < 0) return Optional.empty();
            String line = newest;
            newest = null;
            said++;
            next = elapsed.plus(EVERY);
            return Optional.of(line);
        }

        boolean done() {
            return said >= MAX_LINES;
        }
    }
}
