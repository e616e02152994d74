package io.mayfly.dist;

import io.mayfly.cli.MayflyCli;
import picocli.CommandLine;

/** Entry point of {@code mayfly}: the client commands, plus {@code server}. */
public final class Main {
    private Main() {}

    public static CommandLine commandLine() {
        return MayflyCli.commandLine()
                .addSubcommand("server", new ServerCommand())
                .addSubcommand("agent", new AgentCommand());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
