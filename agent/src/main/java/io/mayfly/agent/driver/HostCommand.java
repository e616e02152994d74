package io.mayfly.agent.driver;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Runs one of the host's tools ({@code ip}, {@code xl}, {@code solo5-elftool}) to its end, within a time limit.
 * Its output goes through temporary files rather than pipes: {@code xl create} leaves a daemon behind that
 * inherits them, and nothing it inherits may keep us waiting for an end of file.
 */
public final class HostCommand {
    /** The exit of a command that was killed because its time was up. */
    public static final int TIMED_OUT = -1;

    /** How a command ended: its exit code ({@link #TIMED_OUT} if it was killed) and what it printed. */
    public record Result(int exit, String stdout, String stderr) {
        public boolean ok() {
            return exit == 0;
        }

        /** Everything it printed, trimmed, stderr after stdout: for a message that says why it failed. */
        public String output() {
            return Stream.of(stdout.trim(), stderr.trim())
                    .filter(s -> !s.isEmpty())
                    .collect(Collectors.joining("\n"));
        }
    }

    private HostCommand() {}

    /** Runs {@code command}; after {@code timeout} it is killed and the result's exit is {@link #TIMED_OUT}. */
    public static Result run(Duration timeout, List<String> command) throws IOException {
        Path out = Files.createTempFile("mayfly-cmd-", ".out");
        Path err = Files.createTempFile("mayfly-cmd-", ".err");
        try {
            Process p = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            try {
                if (!p.waitFor(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    return new Result(TIMED_OUT, "", "did not finish within " + timeout.toMillis() + " ms");
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while running " + String.join(" ", command), e);
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
