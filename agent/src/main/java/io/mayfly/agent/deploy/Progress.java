package io.mayfly.agent.deploy;

/** Where a pipeline reports what it is doing, one line at a time (a git push's remote: lines, an API response, a log). */
@FunctionalInterface
public interface Progress {
    void say(String line);

    Progress NONE = line -> {};

    /** Sends every line to both. */
    default Progress and(Progress other) {
        return line -> { say(line); other.say(line); };
    }
}
