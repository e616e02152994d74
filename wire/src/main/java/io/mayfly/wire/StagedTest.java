package io.mayfly.wire;

/** The manifest's optional [test] command, run against a staged instance before traffic moves to it. */
@FunctionalInterface
public interface StagedTest {
    /** Returns null when the test passed, else the reason it failed. */
    String run(String instanceUrl) throws InterruptedException;

    StagedTest NONE = url -> null;
}
