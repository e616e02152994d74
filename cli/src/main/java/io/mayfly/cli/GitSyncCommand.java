package io.mayfly.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mayfly git:sync -a APP [--build | --build-if-changed]}: fetch the app's repository, and build it (as Dokku's git:sync). */
@Command(
        name = "git:sync",
        mixinStandardHelpOptions = true,
        description = "Fetch an app's repository (apps:create --repo) and optionally build it.")
final class GitSyncCommand extends ClientCommand {
    @Mixin
    AppOption app;

    @Option(names = "--build", description = "build and deploy the fetched head")
    boolean build;

    @Option(
            names = "--build-if-changed",
            description = "build and deploy only if the fetched head is not already deployed")
    boolean buildIfChanged;

    @Override
    public Integer call() {
        JsonNode answer = api().post(
                        appPath(app.name) + "/sync",
                        Map.of("build", build, "buildIfChanged", buildIfChanged),
                        JsonNode.class,
                        Duration.ofMinutes(30));
        answer.path("output").forEach(line -> out().println(line.asText()));
        JsonNode result = answer.path("result");
        String commit = result.path("commit").asText();
        JsonNode outcome = result.path("outcome");
        if (!outcome.isMissingNode() && outcome.has("reason")) {
            throw new CliError(
                    "the build of " + commit + " failed: "
                            + outcome.path("reason").asText(),
                    "see mayfly logs -a " + app.name);
        }
        print("Synced " + app.name + " at " + commit + "\n");
        return 0;
    }
}
