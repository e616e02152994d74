package io.mayfly.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The top-level {@code mayfly} command with every client subcommand ({@code apps}, {@code releases}, {@code logs}...).
 * The distribution adds {@code server} and {@code agent} to the same command line.
 */
@Command(
        name = "mayfly",
        mixinStandardHelpOptions = true,
        versionProvider = MayflyCli.Version.class,
        description = "Mayfly: push to deploy unikernels. Client commands talk to a running Mayfly server.",
        footer = {
            "",
            "The server is found through MAYFLY_URL and MAYFLY_TOKEN, or else through server.json and "
                    + "admin.token in the data directory (--data, MAYFLY_DATA, or ~/.mayfly)."
        })
public final class MayflyCli implements Runnable {
    static final String VERSION = io.mayfly.wire.Version.CURRENT;

    private final Environment environment;
    private ApiClient api;

    @Spec
    CommandSpec spec;

    @Option(
            names = "--data",
            paramLabel = "DIR",
            description = "data directory of the server to talk to (default: $MAYFLY_DATA or ~/.mayfly)")
    Path data;

    MayflyCli(Environment environment) {
        this.environment = environment;
    }

    public static CommandLine commandLine() {
        return commandLine(Environment.system());
    }

    /** The command line reading {@code environment} instead of the process's own: what tests use. */
    public static CommandLine commandLine(Environment environment) {
        CommandLine cli = new CommandLine(new MayflyCli(environment))
                .addSubcommand("version", new VersionCommand())
                .addSubcommand("apps", new AppsCommand())
                .addSubcommand("apps:create", new AppsCreateCommand())
                .addSubcommand("apps:destroy", new AppsDestroyCommand())
                .addSubcommand("apps:public", new AppsPublicCommand())
                .addSubcommand("releases", new ReleasesCommand())
                .addSubcommand("rollback", new RollbackCommand())
                .addSubcommand("logs", new LogsCommand())
                .addSubcommand("ps", new PsCommand())
                .addSubcommand("builds", new BuildsCommand())
                .addSubcommand("verify", new VerifyCommand())
                .addSubcommand("deploy", new DeployCommand())
                .addSubcommand("info", new InfoCommand())
                .addSubcommand("drivers", new DriversCommand())
                .addSubcommand("agents", new AgentsCommand())
                .addSubcommand("config", new ConfigCommands.Show())
                .addSubcommand("config:get", new ConfigCommands.Get())
                .addSubcommand("config:set", new ConfigCommands.Set())
                .addSubcommand("config:unset", new ConfigCommands.Unset())
                .addSubcommand("ps:scale", new ScaleCommand())
                .addSubcommand("builds:upload", new UploadCommand())
                .addSubcommand("builds:rebuild", new RebuildCommand())
                .addSubcommand("builds:prune", new PruneCommand())
                .addSubcommand("tokens", new TokenCommands.List_())
                .addSubcommand("tokens:create", new TokenCommands.Create())
                .addSubcommand("tokens:revoke", new TokenCommands.Revoke())
                .addSubcommand("git:sync", new GitSyncCommand())
                .addSubcommand("lock", new LockCommands.Lock())
                .addSubcommand("unlock", new LockCommands.Unlock())
                .addSubcommand("audit", new LockCommands.Audit())
                .addSubcommand("help", new CommandLine.HelpCommand());
        cli.setExecutionExceptionHandler(MayflyCli::report);
        return cli;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The API client, made on first use so commands that fail early (a refused confirmation) need no server. */
    ApiClient api() {
        if (api == null) api = new ApiClient(ServerAddress.discover(data, environment));
        return api;
    }

    Environment environment() {
        return environment;
    }

    /** Our own errors are for the user and print as {@code error:}/{@code hint:}; anything else is a bug and keeps its stack trace. */
    static int report(Exception e, CommandLine commandLine, CommandLine.ParseResult parsed) {
        PrintWriter err = commandLine.getErr();
        if (e instanceof CliError error) {
            err.println("error: " + error.getMessage());
            if (error.hint() != null && !error.hint().isBlank()) err.println("hint: " + error.hint());
        } else {
            err.println("error: unexpected failure in mayfly " + commandLine.getCommandName() + ": " + e);
            e.printStackTrace(err);
        }
        err.flush();
        return 1;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = MayflyCli.class.getPackage().getImplementationVersion();
            return new String[] {"mayfly " + (version != null ? version : VERSION)};
        }
    }
}
