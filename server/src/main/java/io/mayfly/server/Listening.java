package io.mayfly.server;

import io.mayfly.wire.Views;

/**
 * What the server says about itself ({@code /api/v1/info}): its API address is known only once Jetty has bound its
 * port, after the routes that show it were made. Set once, then read by every request.
 */
final class Listening {
    private volatile Views.ServerInfo info;

    void bound(Views.ServerInfo info) {
        this.info = info;
    }

    /** The server's address and its router's; requests arrive only once it is bound. */
    Views.ServerInfo info() {
        Views.ServerInfo bound = info;
        if (bound == null) throw new IllegalStateException("the server is not listening yet");
        return bound;
    }
}
