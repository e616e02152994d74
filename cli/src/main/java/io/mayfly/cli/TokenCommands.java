package io.mayfly.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.mayfly.wire.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** API tokens: {@code tokens}, {@code tokens:create}, {@code tokens:revoke}. Admin only. */
final class TokenCommands {
    private TokenCommands() {}

    @Command(
            name = "tokens:create",
            mixinStandardHelpOptions = true,
            description =
                    "Make a token: --admin, --app APP --scope read|upload|deploy, or --agent HOST. The secret is shown once.")
    static final class Create extends ClientCommand {
        @Option(names = "--app", description = "the one app the token is for")
        String app;

        @Option(names = "--scope", description = "read, upload or deploy")
        String scope;

        @Option(names = "--admin", description = "a token that may do everything")
        boolean admin;

        @Option(
                names = "--agent",
                paramLabel = "HOST",
                description = "a token for the remote agent of this host: it may register as HOST, "
                        + "read what is assigned to it and report, nothing else")
        String agent;

        @Option(names = "--expires", description = "a lifetime such as 30m, 1h or 7d (default: never)")
        String expires;

        @Option(names = "--description", description = "what the token is for, e.g. \"GitHub Actions of hello\"")
        String description;

        @Override
        public Integer call() {
            if ((admin ? 1 : 0) + (scope != null ? 1 : 0) + (agent != null ? 1 : 0) != 1) {
                throw new CliError(
                        "give one of --admin, --scope (with --app) or --agent HOST",
                        "e.g. mayfly tokens:create --app hello --scope upload --expires 1h");
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("scope", admin ? "admin" : agent != null ? "agent" : scope);
            if (agent != null) body.put("agent", agent);
            if (app != null) body.put("app", app);
            if (expires != null) body.put("expires", expires);
            if (description != null) body.put("description", description);
            JsonNode created = api().post("/tokens", body, JsonNode.class, ApiClient.DEFAULT_TIMEOUT);
            print("Created token " + created.path("id").asText() + " ("
                    + created.path("scope").asText()
                    + (created.hasNonNull("app") ? " on " + created.path("app").asText() : "")
                    + (created.hasNonNull("expiresAt")
                            ? ", expires " + created.path("expiresAt").asText()
                            : "") + ")\n"
                    + created.path("secret").asText() + "\n"
                    + "This secret is shown once; Mayfly keeps only its hash.\n");
            return 0;
        }
    }

    @Command(name = "tokens", mixinStandardHelpOptions = true, description = "List tokens (never their secrets).")
    static final class List_ extends ClientCommand {
        @Option(names = "--json", description = "print the server's JSON")
        boolean json;

        @Override
        public Integer call() {
            String body = api().get("/tokens");
            if (json) {
                printJson(body);
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            try {
                for (JsonNode t : Json.MAPPER.readTree(body)) {
                    rows.add(List.of(
                            t.path("id").asText(),
                            t.path("scope").asText(),
                            t.path("app").asText("*"),
                            state(t),
                            when(t.path("lastUsedAt")),
                            t.path("description").asText("")));
                }
            } catch (Exception e) {
                throw new CliError("the server sent JSON this client cannot read: " + e.getMessage(), null);
            }
            print(HumanFormat.table(List.of("ID", "SCOPE", "APP", "STATE", "LAST USED", "DESCRIPTION"), rows));
            return 0;
        }

        private String state(JsonNode t) {
            if (t.hasNonNull("revokedAt")) return "revoked";
            if (t.hasNonNull("expiresAt")) {
                Instant at = Instant.parse(t.path("expiresAt").asText());
                return at.isBefore(now()) ? "expired" : "expires " + at;
            }
            return "active";
        }

        private String when(JsonNode at) {
            return at.isNull() || at.isMissingNode() ? "never" : HumanFormat.ago(Instant.parse(at.asText()), now());
        }
    }

    @Command(
            name = "tokens:revoke",
            mixinStandardHelpOptions = true,
            description = "Revoke a token: it is refused from now on.")
    static final class Revoke extends ClientCommand {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            api().delete("/tokens/" + ApiClient.segment(id));
            print("Revoked token " + id + "\n");
            return 0;
        }
    }
}
