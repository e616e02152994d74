package io.mayfly.cli;

import io.mayfly.wire.Json;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** What every client subcommand shares: the API client, the output streams and the clock. */
abstract class ClientCommand implements Callable<Integer> {
    @ParentCommand
    MayflyCli mayfly;

    @Spec
    CommandSpec spec;

    ApiClient api() {
        return mayfly.api();
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    Instant now() {
        return mayfly.environment().clock().instant();
    }

    /** {@code --json}: the server's answer as it sent it, only indented for reading. */
    void printJson(String body) {
        try {
            out().println(Json.pretty(Json.MAPPER.readTree(body)));
        } catch (Exception e) {
            throw new CliError(
                    "the server sent JSON this client cannot read: " + e.getMessage(),
                    "the server and the client may be different Mayfly versions");
        }
        out().flush();
    }

    /**
     * A list command's whole flow: with {@code --json} the server's array as sent, otherwise {@code table} of the
     * parsed items, or {@code whenEmpty} when there are none.
     */
    <T> int list(String path, boolean json, Class<T> type, String whenEmpty, Function<List<T>, String> table) {
        if (json) {
            printJson(api().get(path));
            return 0;
        }
        List<T> items = api().getList(path, type);
        print(items.isEmpty() ? whenEmpty + "\n" : table.apply(items));
        return 0;
    }

    void print(String text) {
        out().print(text);
        out().flush();
    }

    static String appPath(String app) {
        return "/apps/" + ApiClient.segment(app);
    }
}
