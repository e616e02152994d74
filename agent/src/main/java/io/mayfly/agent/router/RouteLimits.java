package io.mayfly.agent.router;

import java.time.Duration;

/**
 * How long the router waits on one app's clients and instances before it gives up, as nginx does (nginx's names in
 * brackets). A null component means the router's default for it (the server-wide flags, else {@link #DEFAULT}).
 *
 * @param requestBody the longest pause between two reads of a request body ({@code client_body_timeout}); past it
 *     the client gets 408 Request Timeout, or is disconnected if its response has begun
 * @param response the longest wait for an instance: from the request sent to the response head, between two reads of
 *     the response body, and while the instance leaves the request unread ({@code proxy_read_timeout},
 *     {@code proxy_send_timeout}); past it the client gets 504 Gateway Timeout, or is disconnected if its response has
 *     begun, the instance's connection is closed and the app's log says so. A client that reads none of its response
 *     for this long is disconnected too ({@code send_timeout}).
 * @param idle how long a kept-alive client connection may wait for its next request ({@code keepalive_timeout})
 */
public record RouteLimits(Duration requestBody, Duration response, Duration idle) {
    /** The longest timeout accepted: waits are bounded, and their nanoseconds never overflow. */
    public static final Duration MAX = Duration.ofDays(1);
    /** nginx's defaults. */
    public static final RouteLimits DEFAULT =
            new RouteLimits(Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(75));

    public RouteLimits {
        check(requestBody, "request body timeout");
        check(response, "response timeout");
        check(idle, "idle timeout");
    }

    /** These limits, with every missing one taken from {@code defaults}. */
    RouteLimits orElse(RouteLimits defaults) {
        return new RouteLimits(
                requestBody != null ? requestBody : defaults.requestBody,
                response != null ? response : defaults.response,
                idle != null ? idle : defaults.idle);
    }

    static void check(Duration timeout, String what) {
        if (timeout != null && (timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX) > 0)) {
            throw new IllegalArgumentException(
                    "the router's " + what + " must be more than zero and at most a day, got " + timeout);
        }
    }
}
