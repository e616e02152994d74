package io.mayfly.wire;

/** Where a pipeline reports what it is doing, one line at a time (a git push's remote: lines, an API response, a log). */
@FunctionalInterface
public interface Progress {
    void say(String line);

    Progress NONE = line -> {};

    /**
     * This progress, one line at a time: a deploy on an agent speaks from several threads at once (the agent's lines,
     * its staged-test request, the push's own), and what a line is written to (a git push's side band, a response)
     * takes one writer at a time.
     */
    default Progress serialized() {
        Object lock = new Object();
        return line -> {
            synchronized (lock) {
                say(line);
            }
        };
    }

    /** Sends every line to both. */
    default Progress and(Progress other) {
        return line -> {
            say(line);
            other.say(line);
        };
    }
}
