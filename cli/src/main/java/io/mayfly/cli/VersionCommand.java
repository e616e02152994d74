package io.mayfly.cli;

import io.mayfly.wire.AgentViews.AgentView;
import io.mayfly.wire.Version;
import io.mayfly.wire.Views.ServerInfo;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

/**
 * {@code mayfly version}: the Mayfly version of this client, of the server and of each agent, and which one to
 * upgrade when they differ.
 */
@Command(
        name = "version",
        mixinStandardHelpOptions = true,
        description = "Show the Mayfly version of this client, the server and each agent (agents need an admin token).")
final class VersionCommand extends ClientCommand {
    @Override
    public Integer call() {
        ServerInfo info = api().get("/info", ServerInfo.class);
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("client", Version.CURRENT));
        rows.add(List.of("server", info.version()));
        List<String> behind = new ArrayList<>();
        try {
            for (AgentView a : api().get("/agents", AgentView[].class)) {
                String v = a.version() == null ? "unknown (not registered since the server started)" : a.version();
                rows.add(List.of("agent " + a.name(), v));
                if (a.version() != null && !a.version().equals(info.version())) behind.add(a.name());
            }
        } catch (CliError e) {
            rows.add(List.of(
                    "agents", "not shown: " + e.getMessage().lines().findFirst().orElse("")));
        }
        print(HumanFormat.table(List.of("WHAT", "VERSION"), rows));
        if (!behind.isEmpty()) {
            print(
                    "Agents on another version than the server: " + String.join(", ", behind)
                            + ". They speak the same protocol; "
                            + "upgrade them with: mayfly agent ... --take-over (the embedded agent is upgraded when the server starts).\n");
        }
        return 0;
    }
}
