package io.mayfly.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;

/** Runs {@code mayfly ...} in-process with a given environment and captures what it prints. */
final class Cli {
    static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");

    record Result(int exitCode, String out, String err) {}

    static Environment environment(Path home, String... variables) {
        Map<String, String> env = new HashMap<>();
        for (int i = 0; i < variables.length; i += 2) env.put(variables[i], variables[i + 1]);
        return new Environment(env, home, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    /** An environment pointing at {@code api} with {@code token}, the way MAYFLY_URL and MAYFLY_TOKEN would. */
    static Environment pointingAt(FakeApi api, Path home, String token) {
        return environment(home, "MAYFLY_URL", api.url(), "MAYFLY_TOKEN", token);
    }

    static Result run(Environment env, String... args) {
        return run(env, new StringWriter(), args);
    }

    static Result run(Environment env, Writer out, String... args) {
        StringWriter err = new StringWriter();
        var commandLine = MayflyCli.commandLine(env);
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int code = commandLine.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    private Cli() {}
}
