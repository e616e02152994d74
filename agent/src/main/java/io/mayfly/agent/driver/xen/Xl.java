package io.mayfly.agent.driver.xen;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs Xen's {@code xl} toolstack, one subcommand at a time, with a time limit. Output goes through a temporary
 * file rather than a pipe: {@code xl create} leaves a daemon behind that watches the domain, and nothing it
 * inherits may keep us waiting.
 */
final class Xl {
    static final int TIMED_OUT = -1;

    record Result(int exit, String output) {
        boolean ok() { return exit == 0; }
    }

    private final Path binary;

    Xl(Path binary) {
        this.binary = binary;
    }

    Path binary() { return binary; }

    /** Runs {@code xl ARGS}; after {@code timeout} the xl process is killed and the result's exit is {@link #TIMED_OUT}. */
    Result run(Duration timeout, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(binary.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile("mayfly-xl-", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            try {
                if (!p.waitFor(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    return new Result(TIMED_OUT, "did not finish within " + timeout.toMillis() + " ms");
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while running xl " + String.join(" ", args), e);
            }
            return new Result(p.exitValue(), Files.readString(out).trim());
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** Whether a domain of this name exists: {@code xl list NAME} exits 0 for one, 1 ("invalid domain identifier") otherwise. */
    boolean listed(String domain) throws IOException {
        return run(Duration.ofSeconds(10), "list", domain).ok();
    }
}
