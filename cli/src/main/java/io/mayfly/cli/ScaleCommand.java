package io.mayfly.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code mayfly ps:scale -a APP N}: run N instances of the live release (remembered for later deploys). */
@Command(name = "ps:scale", mixinStandardHelpOptions = true, description = "Run N instances of an app's live release.")
final class ScaleCommand extends ClientCommand {
    @Mixin
    AppOption app;

    @Parameters(paramLabel = "N", description = "instances, 0 to 64")
    int instances;

    @Override
    public Integer call() {
        JsonNode serving = api().post(
                        appPath(app.name) + "/scale",
                        Map.of("instances", instances),
                        JsonNode.class,
                        Duration.ofMinutes(5));
        print("Scaled " + app.name + " to " + serving.size() + " instance" + (serving.size() == 1 ? "" : "s") + "\n");
        return 0;
    }
}
