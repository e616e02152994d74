package io.mayfly.server.release;

/** A deploy was refused because someone locked the app's deploys. */
public final class DeployLocked extends Exception {
    public DeployLocked(String message) {
        super(message);
    }
}
