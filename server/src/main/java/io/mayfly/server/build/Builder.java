package io.mayfly.server.build;

/** Runs one build command over a checkout: here in the sandbox ({@link SandboxedBuild}), or on a build worker ({@link BuildQueue}). */
public interface Builder {
    /** Runs the command; its output goes to {@code out} line by line and to the request's log file; its files stay in the work directory. */
    BuildResult run(BuildRequest request, BuildOutput out) throws InterruptedException;
}
