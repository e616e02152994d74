package io.mayfly.cli;

import io.mayfly.wire.Views.AppView;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mayfly apps}: every app, what is live, whether its registry is public and how its last deploy went. */
@Command(name = "apps", mixinStandardHelpOptions = true, description = "List the apps.")
final class AppsCommand extends ClientCommand {
    @Option(names = "--json", description = "print the server's JSON")
    boolean json;

    @Override
    public Integer call() {
        return list(
                "/apps",
                json,
                AppView.class,
                "No apps yet. Create one with: mayfly apps:create NAME",
                apps -> HumanFormat.table(
                        List.of("NAME", "LIVE", "URL", "REGISTRY", "LAST DEPLOY"),
                        apps.stream()
                                .map(a -> List.of(
                                        a.name(),
                                        HumanFormat.version(a.liveRelease()),
                                        nonNull(a.url()),
                                        a.isPublic() ? "public" : "private",
                                        lastDeploy(a)))
                                .toList()));
    }

    private String lastDeploy(AppView app) {
        if (app.lastDeployAt() == null) return HumanFormat.NONE;
        String when = HumanFormat.ago(app.lastDeployAt(), now());
        return app.lastDeployResult() == null ? when : when + ", " + app.lastDeployResult();
    }

    private static String nonNull(String value) {
        return value == null ? HumanFormat.NONE : value;
    }
}
