package io.mayfly.server.hosts;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which agent runs an app: a decision from the agents as they stand, with no I/O ({@link RemoteHosts} gathers the
 * figures and records the choice). An app stays where it is while its agent is up and offers its driver; otherwise
 * it goes to the up agent offering the driver with the most free memory, the first name in order on a tie.
 */
public final class Placement {
    private Placement() {}

    /** An agent as placement sees it: {@code freeMb} is its capacity less what the apps placed there take. */
    public record Candidate(String name, boolean up, Set<String> drivers, long freeMb) {}

    /** The agent for an app whose release needs {@code driver}, now on {@code current} (if placed); empty if none can run it. */
    public static Optional<String> choose(String driver, Optional<String> current, List<Candidate> agents) {
        if (current.isPresent()) {
            boolean stays = agents.stream()
                    .anyMatch(a -> a.name().equals(current.get())
                            && a.up()
                            && a.drivers().contains(driver));
            if (stays) return current;
        }
        return agents.stream()
                .filter(a -> a.up() && a.drivers().contains(driver))
                .max(Comparator.comparingLong(Candidate::freeMb)
                        .thenComparing(Candidate::name, Comparator.reverseOrder()))
                .map(Candidate::name);
    }
}
