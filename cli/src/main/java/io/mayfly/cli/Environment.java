package io.mayfly.cli;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * What the client reads from the world outside its arguments: environment variables, the home directory and the
 * clock. Tests pass their own instead of changing the real process environment.
 */
public record Environment(Map<String, String> variables, Path home, Clock clock) {
    public static Environment system() {
        return new Environment(System.getenv(), Path.of(System.getProperty("user.home")), Clock.systemUTC());
    }

    /** The variable's value, or null when it is unset or blank. */
    public String variable(String name) {
        String value = variables.get(name);
        return value == null || value.isBlank() ? null : value.trim();
    }
}
