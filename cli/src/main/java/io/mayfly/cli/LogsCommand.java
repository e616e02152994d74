package io.mayfly.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mayfly logs -a APP [--tail]}: the app's build, deploy and console log lines, printed as they arrive. */
@Command(
        name = "logs",
        mixinStandardHelpOptions = true,
        description = "Show an app's logs; with --tail, keep following them.")
final class LogsCommand extends ClientCommand {
    @Mixin
    AppOption app;

    @Option(
            names = {"-t", "--tail"},
            description = "keep the stream open and print new lines until Ctrl-C")
    boolean tail;

    @Option(
            names = {"-n", "--num"},
            paramLabel = "N",
            defaultValue = "100",
            description = "how many recent lines to show first (default: ${DEFAULT-VALUE})")
    int lines;

    @Override
    public Integer call() {
        if (lines < 0) throw new CliError("--num must be 0 or more, got " + lines);
        PrintWriter out = out();
        api().streamLines(appPath(app.name) + "/logs?lines=" + lines + "&follow=" + tail, line -> {
            out.println(line);
            out.flush();
        });
        return 0;
    }
}
