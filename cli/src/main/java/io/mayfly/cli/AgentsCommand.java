package io.mayfly.cli;

import io.mayfly.wire.AgentViews.AgentView;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mayfly agents}: the remote hosts of a server run with --no-agent, what they offer and run, and when each last reported. */
@Command(
        name = "agents",
        mixinStandardHelpOptions = true,
        description =
                "List the agents: status, Mayfly version, drivers, memory placed and offered, apps, instances, last contact.")
final class AgentsCommand extends ClientCommand {
    @Option(names = "--json", description = "print the server's JSON")
    boolean json;

    @Override
    public Integer call() {
        return list(
                "/agents",
                json,
                AgentView.class,
                "No agent has registered. Start one on each host with:\n"
                        + "  mayfly tokens:create --agent HOST\n  mayfly agent --server URL --token TOKEN --name HOST",
                agents -> HumanFormat.table(
                        List.of(
                                "AGENT",
                                "STATUS",
                                "VERSION",
                                "DRIVERS",
                                "MEMORY",
                                "APPS",
                                "INSTANCES",
                                "ROUTER",
                                "REQUESTS",
                                "LAST CONTACT"),
                        agents.stream()
                                .map(a -> List.of(
                                        a.name(),
                                        a.status(),
                                        a.version() == null ? "?" : a.version(),
                                        String.join(",", a.drivers()),
                                        a.usedMb() + "/" + a.capacityMb() + " MiB",
                                        a.apps().isEmpty() ? "-" : String.join(",", a.apps()),
                                        Integer.toString(a.instances()),
                                        a.router() == null ? "-" : a.router(),
                                        Long.toString(a.requests()),
                                        ago(a.lastContact())))
                                .toList()));
    }

    private static String ago(Instant at) {
        long s = Math.max(0, Duration.between(at, Instant.now()).toSeconds());
        return s < 120 ? s + " s ago" : s / 60 + " min ago";
    }
}
