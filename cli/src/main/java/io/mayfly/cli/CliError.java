package io.mayfly.cli;

/**
 * A failure the user can act on: printed as {@code error: MESSAGE} and, when present, {@code hint: HINT},
 * without a stack trace, and the command exits with 1.
 */
public final class CliError extends RuntimeException {
    private final String hint;

    public CliError(String message, String hint) {
        super(message);
        this.hint = hint;
    }

    public CliError(String message) {
        this(message, null);
    }

    /** What to do about it, or null. */
    public String hint() {
        return hint;
    }
}
