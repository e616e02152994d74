package io.mayfly.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.mayfly.wire.Json;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Config vars as on Heroku: {@code config}, {@code config:get}, {@code config:set K=V ...}, {@code config:unset K ...}. */
final class ConfigCommands {
    private static final Duration DEPLOY_TIMEOUT = Duration.ofMinutes(5);

    private ConfigCommands() {}

    static String path(String app) {
        return ClientCommand.appPath(app) + "/config";
    }

    @Command(name = "config", mixinStandardHelpOptions = true, description = "Show an app's config vars.")
    static final class Show extends ClientCommand {
        @Mixin
        AppOption app;

        @Option(names = "--json", description = "print the server's JSON")
        boolean json;

        @Option(names = "--shell", description = "print KEY=VALUE lines, for a shell")
        boolean shell;

        @Override
        public Integer call() {
            String body = api().get(path(app.name));
            if (json) {
                printJson(body);
                return 0;
            }
            Map<String, String> vars = vars(body);
            if (vars.isEmpty()) {
                print(app.name + " has no config vars. Set one with: mayfly config:set -a " + app.name
                        + " KEY=VALUE\n");
                return 0;
            }
            StringBuilder text = new StringBuilder(shell ? "" : "=== " + app.name + " config vars\n");
            int width = vars.keySet().stream().mapToInt(String::length).max().orElse(0);
            vars.forEach((k, v) -> text.append(
                            shell ? k + "=" + v : String.format("%-" + (width + 1) + "s %s", k + ":", v))
                    .append('\n'));
            print(text.toString());
            return 0;
        }
    }

    @Command(name = "config:get", mixinStandardHelpOptions = true, description = "Print one config var's value.")
    static final class Get extends ClientCommand {
        @Mixin
        AppOption app;

        @Parameters(paramLabel = "KEY")
        String key;

        @Override
        public Integer call() {
            String value = vars(api().get(path(app.name))).get(key);
            if (value == null)
                throw new CliError(app.name + " has no config var " + key, "see mayfly config -a " + app.name);
            print(value + "\n");
            return 0;
        }
    }

    @Command(
            name = "config:set",
            mixinStandardHelpOptions = true,
            description = "Set config vars; with a live release this makes and deploys a new release.")
    static final class Set extends ClientCommand {
        @Mixin
        AppOption app;

        @Parameters(paramLabel = "KEY=VALUE", arity = "1..*")
        List<String> pairs;

        @Override
        public Integer call() {
            Map<String, String> changes = new LinkedHashMap<>();
            for (String pair : pairs) {
                int eq = pair.indexOf('=');
                if (eq <= 0)
                    throw new CliError(
                            "'" + pair + "' is not KEY=VALUE",
                            "e.g. mayfly config:set -a " + app.name + " GREETING=hi");
                changes.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
            return change(this, app.name, changes, "Set " + String.join(", ", changes.keySet()));
        }
    }

    @Command(
            name = "config:unset",
            mixinStandardHelpOptions = true,
            description = "Unset config vars; with a live release this makes and deploys a new release.")
    static final class Unset extends ClientCommand {
        @Mixin
        AppOption app;

        @Parameters(paramLabel = "KEY", arity = "1..*")
        List<String> keys;

        @Override
        public Integer call() {
            Map<String, String> changes = new LinkedHashMap<>();
            keys.forEach(k -> changes.put(k, null));
            return change(this, app.name, changes, "Unset " + String.join(", ", keys));
        }
    }

    private static int change(ClientCommand command, String app, Map<String, String> changes, String what) {
        command.err().println(what + " on " + app + " ...");
        command.err().flush();
        JsonNode answer = command.api().patch(path(app), changes, JsonNode.class, DEPLOY_TIMEOUT);
        JsonNode release = answer.path("release");
        if (release.isMissingNode() || release.isNull()) {
            command.print("Done: " + what + ". " + app + " has no release yet; the vars apply to its first deploy.\n");
        } else {
            command.print("Done: " + what + ". Released and live as v"
                    + release.path("version").asInt() + ".\n");
        }
        return 0;
    }

    private static Map<String, String> vars(String body) {
        try {
            Map<String, String> vars = new TreeMap<>();
            Json.MAPPER
                    .readTree(body)
                    .fields()
                    .forEachRemaining(e -> vars.put(e.getKey(), e.getValue().asText()));
            return vars;
        } catch (Exception e) {
            throw new CliError("the server sent JSON this client cannot read: " + e.getMessage(), null);
        }
    }
}
