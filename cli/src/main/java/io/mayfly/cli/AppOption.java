package io.mayfly.cli;

import picocli.CommandLine.Option;

/** The {@code -a/--app APP} option of every command about one app. */
final class AppOption {
    @Option(
            names = {"-a", "--app"},
            required = true,
            paramLabel = "APP",
            description = "the app")
    String name;
}
