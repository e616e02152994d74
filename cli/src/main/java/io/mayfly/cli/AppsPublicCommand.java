package io.mayfly.cli;

import io.mayfly.wire.Views.AppView;
import io.mayfly.wire.Views.ChangeApp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code mayfly apps:public -a APP on|off}: whether anyone may read the app's registry without a token. */
@Command(
        name = "apps:public",
        mixinStandardHelpOptions = true,
        description =
                "Let anyone read an app's builds, artifacts, signatures, consoles and provenance without a token (on), or not (off).")
final class AppsPublicCommand extends ClientCommand {
    enum Switch {
        on,
        off
    }

    @Mixin
    AppOption app;

    @Parameters(paramLabel = "on|off", description = "on: the app's registry is public; off: it needs a token again")
    Switch state;

    @Override
    public Integer call() {
        AppView changed = api().patch(
                        appPath(app.name), new ChangeApp(state == Switch.on), AppView.class, ApiClient.DEFAULT_TIMEOUT);
        print(registryLine(changed, api().server().serverUrl()) + "\n");
        return 0;
    }

    /** What the app's registry is, said for the person who may pass its URL on. */
    static String registryLine(AppView app, String serverUrl) {
        return app.isPublic()
                ? "The registry of " + app.name() + " is public: anyone may read " + serverUrl + "/job/" + app.name()
                        + " without a token"
                : "The registry of " + app.name() + " is private: reading its builds and artifacts needs a token";
    }
}
