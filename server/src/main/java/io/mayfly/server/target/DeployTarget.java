package io.mayfly.server.target;

import io.mayfly.wire.Progress;
import io.mayfly.wire.StagedTest;
import io.mayfly.wire.manifest.Manifest;
import java.util.Map;

/**
 * Where releases run: makes release vN of an app live, health-gated, and says how it ended. The release service
 * records releases and never learns what runs them; today the pool of agents (the embedded one or remote hosts)
 * does, and a cloud or an existing orchestrator plugs in here the same way.
 */
public interface DeployTarget {
    /**
     * Makes {@code version} of {@code app} live, health-gated (and staged-tested when {@code test} is not
     * {@link StagedTest#NONE}), saying what it does on {@code progress}. On failure what served before still serves.
     * The target keeps the release as its goal until {@link #settled} is called, once the outcome is recorded.
     */
    Outcome deploy(String app, int version, Manifest manifest, StagedTest test, Progress progress)
            throws InterruptedException;

    /** {@code ps:scale}: the live {@code version} runs as many instances as the app's formation says now. */
    Outcome rescale(String app, int version, Manifest manifest, Progress progress) throws InterruptedException;

    /** The outcome of deploying {@code version} is recorded: the target runs the app's live release from now on. */
    void settled(String app, int version);

    /** Something the target runs of the app changed outside a deploy (its formation, its config): it catches up. */
    void appChanged(String app);

    /** Apps were created or destroyed. */
    void appsChanged();

    /** The app is about to be deleted: returns what to call once it is, so that the target stops running it. */
    Runnable forgetting(String app);

    /** The address the app is served at when the target serves it elsewhere than the server's own router, else null. */
    String url(String app);

    /** How a deploy ended, with how long each phase took (milliseconds, in order). */
    sealed interface Outcome {
        Map<String, Long> phases();

        record Live(Map<String, Long> phases) implements Outcome {}

        /** What served before still serves. */
        record Failed(String reason, Map<String, Long> phases) implements Outcome {}
    }
}
