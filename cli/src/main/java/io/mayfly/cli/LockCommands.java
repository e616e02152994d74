package io.mayfly.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Deploy locks and the audit log: {@code lock}, {@code unlock}, {@code audit}. */
final class LockCommands {
    private LockCommands() {}

    @Command(name = "lock", mixinStandardHelpOptions = true, description = "Block deploys of an app until unlock.")
    static final class Lock extends ClientCommand {
        @Mixin
        AppOption app;

        @Option(names = "--reason", required = true, description = "why deploys are blocked (shown to whoever tries)")
        String reason;

        @Override
        public Integer call() {
            api().post(
                            appPath(app.name) + "/lock",
                            java.util.Map.of("reason", reason),
                            JsonNode.class,
                            Duration.ofSeconds(30));
            print("Locked deploys of " + app.name + ": " + reason + "\nUnlock with: mayfly unlock -a " + app.name
                    + "\n");
            return 0;
        }
    }

    @Command(name = "unlock", mixinStandardHelpOptions = true, description = "Allow deploys of an app again.")
    static final class Unlock extends ClientCommand {
        @Mixin
        AppOption app;

        @Override
        public Integer call() {
            api().delete(appPath(app.name) + "/lock");
            print("Unlocked deploys of " + app.name + "\n");
            return 0;
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true, description = "Show who changed an app, when, and how.")
    static final class Audit extends ClientCommand {
        @Mixin
        AppOption app;

        @Option(names = "--json", description = "print the server's JSON")
        boolean json;

        @Override
        public Integer call() {
            String body = api().get(appPath(app.name) + "/audit");
            if (json) {
                printJson(body);
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            try {
                for (JsonNode e : io.mayfly.wire.Json.MAPPER.readTree(body)) {
                    rows.add(List.of(
                            HumanFormat.ago(Instant.parse(e.path("at").asText()), now()),
                            e.path("actor").asText(),
                            e.path("action").asText(),
                            e.path("detail").isNull() ? "" : e.path("detail").asText()));
                }
            } catch (Exception e) {
                throw new CliError("the server sent JSON this client cannot read: " + e.getMessage(), null);
            }
            print(
                    rows.isEmpty()
                            ? "nothing recorded for " + app.name + "\n"
                            : HumanFormat.table(List.of("WHEN", "WHO", "ACTION", "DETAIL"), rows));
            return 0;
        }
    }
}
