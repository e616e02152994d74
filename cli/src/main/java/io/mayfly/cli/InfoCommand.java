package io.mayfly.cli;

import io.mayfly.wire.Views.ServerInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mayfly info}: which server this client talks to, and where it serves apps. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show the server's version and addresses.")
final class InfoCommand extends ClientCommand {
    @Option(names = "--json", description = "print the server's JSON")
    boolean json;

    @Override
    public Integer call() {
        if (json) {
            printJson(api().get("/info"));
            return 0;
        }
        ServerInfo info = api().get("/info", ServerInfo.class);
        print("version:  " + info.version() + "\n"
                + "API:      " + info.apiUrl() + "\n"
                + "router:   " + info.routerUrl() + "\n"
                + "domain:   " + info.domain() + "\n"
                + "token:    from " + api().server().tokenSource() + "\n");
        return 0;
    }
}
