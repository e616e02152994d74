package io.mayfly.sandbox;

import java.util.List;

/**
 * A sandbox's network. The sandbox always gets a network namespace of its own, so it can never reach the host's
 * loopback: not the API, not the router, not another tenant's instance. When it needs more, pasta (Debian's
 * {@code passt}) joins that namespace to the host: {@code inbound} host loopback ports are forwarded to the same
 * port on the sandbox's loopback (how the router reaches an instance), {@code toHost} ports of the sandbox's loopback
 * reach the same port on the host's (how a staged test reaches the instance it tests, and nothing else), and
 * {@code internet} gives it outbound connections through the host, with the host's own addresses, loopback excluded.
 */
public record Network(boolean internet, List<Integer> inbound, List<Integer> toHost) {
    /** Only the sandbox's own loopback. */
    public static final Network NONE = new Network(false, List.of(), List.of());

    public Network {
        inbound = List.copyOf(inbound);
        toHost = List.copyOf(toHost);
    }

    public static Network outbound() {
        return new Network(true, List.of(), List.of());
    }

    /** Whether anything beyond the sandbox's own loopback is wanted, which needs pasta. */
    public boolean joined() {
        return internet || !inbound.isEmpty() || !toHost.isEmpty();
    }
}
