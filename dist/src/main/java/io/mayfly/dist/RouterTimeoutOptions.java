package io.mayfly.dist;

import io.mayfly.agent.router.RouteLimits;
import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The router's server-wide timeouts, the same flags on {@code mayfly server} and {@code mayfly agent}. An app may set
 * its own body, response and idle timeouts ({@code Router.limits}); the header timeout is one for all, as the head
 * names the app. An unset flag keeps the router's default (nginx's).
 */
final class RouterTimeoutOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(
            names = "--router-header-timeout",
            paramLabel = "DURATION",
            description =
                    "how long a client may take to send a request's head, e.g. 30s, 250ms, 5m; past it: 408 (default: 30s)")
    String header;

    @Option(
            names = "--router-body-timeout",
            paramLabel = "DURATION",
            description = "the longest pause between two reads of a request's body; past it: 408 (default: 30s)")
    String body;

    @Option(
            names = "--router-response-timeout",
            paramLabel = "DURATION",
            description =
                    "how long an instance may take to answer, or pause in its answer; past it: 504 (default: 60s)")
    String response;

    @Option(
            names = "--router-idle-timeout",
            paramLabel = "DURATION",
            description = "how long a kept-alive client connection may wait for its next request (default: 75s)")
    String idle;

    /** These options as given, checked, for the embedded agent's command line (its router is in its process). */
    java.util.List<String> args() {
        header();
        defaults();
        java.util.List<String> args = new java.util.ArrayList<>();
        if (header != null) args.addAll(java.util.List.of("--router-header-timeout", header));
        if (body != null) args.addAll(java.util.List.of("--router-body-timeout", body));
        if (response != null) args.addAll(java.util.List.of("--router-response-timeout", response));
        if (idle != null) args.addAll(java.util.List.of("--router-idle-timeout", idle));
        return args;
    }

    /** The header timeout; null for the router's default. */
    Duration header() {
        return parse(header, "--router-header-timeout");
    }

    /** The limits of every app that sets none of its own; null components for the router's defaults. */
    RouteLimits defaults() {
        return new RouteLimits(
                parse(body, "--router-body-timeout"),
                parse(response, "--router-response-timeout"),
                parse(idle, "--router-idle-timeout"));
    }

    private Duration parse(String text, String option) {
        if (text == null) return null;
        Duration timeout = AgentCommand.duration(text, option, command.commandLine());
        if (timeout.isZero() || timeout.compareTo(RouteLimits.MAX) > 0) {
            throw new ParameterException(
                    command.commandLine(), option + " must be more than zero and at most 24h, got '" + text + "'");
        }
        return timeout;
    }
}
