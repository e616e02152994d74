package io.mayfly.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code mayfly builds:rebuild -a APP N}: build N again from its recorded source and say whether it is reproducible. */
@Command(
        name = "builds:rebuild",
        mixinStandardHelpOptions = true,
        description = "Build a build again from its recorded commit and manifest, and compare every artifact's sha256.")
final class RebuildCommand extends ClientCommand {
    @Mixin
    AppOption app;

    @Parameters(paramLabel = "N", description = "the build number")
    int number;

    @Override
    public Integer call() {
        err().println("Rebuilding build #" + number + " of " + app.name + " ...");
        err().flush();
        JsonNode answer = api().post(
                        appPath(app.name) + "/builds/" + number + "/rebuild",
                        Map.of(),
                        JsonNode.class,
                        Duration.ofHours(1));
        JsonNode v = answer.path("verdict");
        int rebuild = v.path("rebuild").asInt();
        if (v.path("reproducible").asBoolean()) {
            print("reproducible: build #" + number + " and rebuild #" + rebuild + " have identical artifacts\n");
            return 0;
        }
        StringBuilder text =
                new StringBuilder("not reproducible: build #" + number + " and rebuild #" + rebuild + " differ:\n");
        v.path("differences").forEach(d -> text.append("  ").append(d.asText()).append('\n'));
        print(text.toString());
        return 1;
    }
}
