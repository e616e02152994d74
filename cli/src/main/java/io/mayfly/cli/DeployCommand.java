package io.mayfly.cli;

import io.mayfly.wire.RegistryViews.DeployBuild;
import io.mayfly.wire.Views.AppView;
import io.mayfly.wire.Views.ReleaseView;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mayfly deploy -a APP --build N} (or {@code --sha256 X}): releases a stored build again, without rebuilding. */
@Command(
        name = "deploy",
        mixinStandardHelpOptions = true,
        description =
                "Deploy a stored build (by number or by its artifact's sha256) as a new release, without rebuilding.")
final class DeployCommand extends ClientCommand {
    @Mixin
    AppOption app;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    @Option(
            names = "--strategy",
            paramLabel = "NAME",
            description = "blue-green, rolling or immediate, for this deploy only (default: the build's mayfly.toml)")
    String strategy;

    static final class Which {
        @Option(names = "--build", paramLabel = "N", description = "the build number (see mayfly builds -a APP)")
        Integer build;

        @Option(names = "--sha256", paramLabel = "HEX", description = "the sha256 of an artifact the build produced")
        String sha256;
    }

    @Override
    public Integer call() {
        String path = appPath(app.name);
        String what = which.build != null
                ? "build #" + which.build
                : "the build of sha256:" + HumanFormat.sha12(which.sha256.replaceFirst("^sha256:", ""));
        err().println("Deploying " + what + " of " + app.name + " (this can take a minute)...");
        err().flush();
        ReleaseView release = api().post(
                        path + "/deploys",
                        new DeployBuild(which.build, which.sha256, strategy),
                        ReleaseView.class,
                        RollbackCommand.DEPLOY_TIMEOUT);
        AppView view = api().get(path, AppView.class);
        print("Deployed build #" + release.build() + " of " + app.name + " as v" + release.version() + ": live at "
                + view.url() + "\n");
        return 0;
    }
}
