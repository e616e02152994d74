package io.mayfly.agent.driver.xen;

import io.mayfly.agent.driver.VmHost;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A domain's console, copied into its instance log by {@code xl console NAME} running beside it: what a console
 * health check reads, and what an error quotes. Attached while the domain is still paused after {@code xl create -p},
 * so nothing the guest prints is missed, and ended by itself once the domain is gone (xenconsoled closes the
 * domain's console). What xl itself says goes to {@value #ERRORS} in the instance directory, not among the guest's
 * lines.
 *
 * <p>Its stdin is a pipe the agent holds and never writes to. {@code xl console} ends when its stdin does, so it
 * ends with the agent however the agent ends, never holding the domain's console against the next agent, which
 * attaches its own ({@link XenDriver#recover}).
 */
final class XenConsole {
    /** How long xl console gets, once the domain is gone, to write what the guest printed last before it is ended. */
    static final Duration DRAIN = Duration.ofSeconds(2);

    static final String ERRORS = "xl-console.err";

    private final String domain;
    /** Null when xl console could not be started. */
    private final Process process;

    private final Path logFile;
    private final Path errors;
    private volatile boolean closing;

    private XenConsole(String domain, Process process, Path logFile, Path errors) {
        this.domain = domain;
        this.process = process;
        this.logFile = logFile;
        this.errors = errors;
    }

    /** Starts {@code xl console domain}, appending to {@code logFile}. One that cannot be started is noted in the log. */
    static XenConsole attach(Xl xl, String domain, Path logFile, Path stateDir) {
        Path errors = stateDir.toAbsolutePath().resolve(ERRORS);
        try {
            // stdin a pipe kept open: xl console ends on the end of its input.
            Process process = new ProcessBuilder(xl.binary().toString(), "console", domain)
                    .redirectInput(ProcessBuilder.Redirect.PIPE)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                    .redirectError(errors.toFile())
                    .start();
            return new XenConsole(domain, process, logFile, errors);
        } catch (IOException e) {
            VmHost.note(
                    logFile,
                    "cannot run xl console " + domain + " (" + e.getMessage()
                            + "): the guest's console is not copied here, "
                            + "so a [health] console check cannot see it");
            return new XenConsole(domain, null, logFile, errors);
        }
    }

    /** Whether xl console is still copying. */
    boolean copying() {
        return process != null && process.isAlive();
    }

    /** Waits up to {@code timeout} for xl console to end, which it does when the domain goes. */
    void awaitEnd(Duration timeout) throws InterruptedException {
        if (process != null) process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The domain is gone: lets xl console write what the guest printed last, which it does before it ends, then ends it. */
    void finish() {
        try {
            awaitEnd(DRAIN);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close();
    }

    /** Ends xl console now: the agent lets go of the domain, or the domain is gone. */
    void close() {
        closing = true;
        if (process == null || !process.isAlive()) return;
        process.destroy();
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Says in the log that xl console ended while its domain runs, and what xl said: the guest's lines from now on are not copied. */
    void noteEndedEarly() {
        if (process == null || closing || process.isAlive()) return;
        String said;
        try {
            said = Files.exists(errors) ? Files.readString(errors).trim() : "";
        } catch (IOException e) {
            said = "";
        }
        VmHost.note(
                logFile,
                "xl console " + domain + " ended (exit " + process.exitValue() + (said.isEmpty() ? "" : ": " + said)
                        + ") while the domain runs; what the guest prints from now on is not copied here");
    }
}
