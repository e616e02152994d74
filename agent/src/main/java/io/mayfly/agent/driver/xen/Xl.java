package io.mayfly.agent.driver.xen;

import io.mayfly.agent.driver.HostCommand;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs Xen's {@code xl} toolstack, one subcommand at a time, with a time limit ({@link HostCommand}: {@code xl
 * create} leaves a daemon behind that watches the domain, and nothing it inherits may keep us waiting).
 */
final class Xl {
    private final Path binary;

    Xl(Path binary) {
        this.binary = binary;
    }

    Path binary() {
        return binary;
    }

    /** Runs {@code xl ARGS}; after {@code timeout} the xl process is killed and the result's exit is {@link HostCommand#TIMED_OUT}. */
    HostCommand.Result run(Duration timeout, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(binary.toString()));
        command.addAll(List.of(args));
        return HostCommand.run(timeout, command);
    }

    /** Whether a domain of this name exists: {@code xl list NAME} exits 0 for one, 1 ("invalid domain identifier") otherwise. */
    boolean listed(String domain) throws IOException {
        return run(Duration.ofSeconds(10), "list", domain).ok();
    }
}
