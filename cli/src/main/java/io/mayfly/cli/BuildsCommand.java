package io.mayfly.cli;

import io.mayfly.wire.Views.ArtifactView;
import io.mayfly.wire.Views.BuildView;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mayfly builds -a APP}: the app's builds, the commit each built and the artifact it left. */
@Command(name = "builds", mixinStandardHelpOptions = true, description = "List an app's builds.")
final class BuildsCommand extends ClientCommand {
    @Mixin
    AppOption app;

    @Option(names = "--json", description = "print the server's JSON")
    boolean json;

    @Override
    public Integer call() {
        return list(
                appPath(app.name) + "/builds",
                json,
                BuildView.class,
                app.name + " has no builds yet. Push to start one: see mayfly apps:create",
                builds -> HumanFormat.table(
                        List.of("NUMBER", "STATUS", "COMMIT", "DURATION", "ARTIFACT"),
                        builds.stream()
                                .map(b -> List.of(
                                        "#" + b.number(),
                                        b.status(),
                                        HumanFormat.commit(b.commit()),
                                        b.durationMs() == null
                                                ? HumanFormat.NONE
                                                : HumanFormat.duration(Duration.ofMillis(b.durationMs())),
                                        artifacts(b.artifacts())))
                                .toList()));
    }

    private static String artifacts(List<ArtifactView> artifacts) {
        if (artifacts == null || artifacts.isEmpty()) return HumanFormat.NONE;
        ArtifactView main = artifacts.get(0);
        String text = main.name() + " " + HumanFormat.sha12(main.sha256()) + " " + HumanFormat.size(main.size());
        return artifacts.size() == 1 ? text : text + " (+" + (artifacts.size() - 1) + " more)";
    }
}
