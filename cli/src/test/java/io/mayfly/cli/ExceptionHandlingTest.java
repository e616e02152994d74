package io.mayfly.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ExceptionHandlingTest {
    @Test
    void ourErrorsPrintWithoutAStackTraceButUnexpectedOnesKeepIt() {
        StringWriter err = new StringWriter();
        CommandLine commandLine = MayflyCli.commandLine(Cli.environment(Path.of("/nonexistent")));
        commandLine.setErr(new PrintWriter(err));

        int ours = MayflyCli.report(new CliError("app hello is busy", "try again"), commandLine, null);
        assertThat(err.toString()).isEqualTo("error: app hello is busy\nhint: try again\n");

        err.getBuffer().setLength(0);
        int unexpected = MayflyCli.report(new IllegalStateException("boom"), commandLine, null);
        assertThat(err.toString())
                .startsWith("error: unexpected failure in mayfly mayfly: java.lang.IllegalStateException: boom\n")
                .contains("\tat io.mayfly.cli.ExceptionHandlingTest");

        assertThat(ours).isEqualTo(1);
        assertThat(unexpected).isEqualTo(1);
    }

    @Test
    void theDistributionCanAddItsOwnSubcommands() {
        @CommandLine.Command(name = "server")
        class ServerStandIn implements Runnable {
            @Override
            public void run() {}
        }
        CommandLine commandLine = MayflyCli.commandLine(Cli.environment(Path.of("/nonexistent")))
                .addSubcommand("server", new ServerStandIn());

        assertThat(commandLine.getSubcommands())
                .containsKeys(
                        "apps",
                        "apps:create",
                        "apps:destroy",
                        "releases",
                        "rollback",
                        "logs",
                        "ps",
                        "builds",
                        "info",
                        "server");
        assertThat(commandLine.execute("server")).isZero();
    }
}
