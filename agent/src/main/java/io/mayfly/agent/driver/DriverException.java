package io.mayfly.agent.driver;

/** A driver could not start an instance; the message is written for the person who pushed. */
public class DriverException extends Exception {
    public DriverException(String message) {
        super(message);
    }

    public DriverException(String message, Throwable cause) {
        super(message, cause);
    }
}
