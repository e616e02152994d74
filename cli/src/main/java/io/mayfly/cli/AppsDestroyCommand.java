package io.mayfly.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code mayfly apps:destroy NAME --confirm NAME}: removes an app with everything it has, so it asks for the name twice. */
@Command(
        name = "apps:destroy",
        mixinStandardHelpOptions = true,
        description = "Destroy an app with its releases, builds, instances and logs.")
final class AppsDestroyCommand extends ClientCommand {
    @Parameters(paramLabel = "NAME", description = "the app to destroy")
    String name;

    @Option(names = "--confirm", paramLabel = "NAME", description = "the app's name again, to confirm")
    String confirm;

    @Override
    public Integer call() {
        if (!name.equals(confirm)) {
            String problem = confirm == null
                    ? "apps:destroy needs confirmation"
                    : "--confirm " + confirm + " does not match the app " + name;
            throw new CliError(
                    problem + ": destroying " + name + " deletes all its releases, builds, instances and logs",
                    "repeat the app's name with --confirm: mayfly apps:destroy " + name + " --confirm " + name);
        }
        api().delete(appPath(name) + "?confirm=" + ApiClient.segment(name));
        print("Destroyed " + name + "\n");
        return 0;
    }
}
