package io.mayfly.agent.router;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

/** The header rewrites of a proxy hop: hop-by-hop headers dropped, X-Forwarded-* added. */
final class ProxyHeaders {
    static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");

    private ProxyHeaders() {}

    /** Turns a client's request into the one sent to a backend, over a kept-alive HTTP/1.1 connection. */
    static void toBackend(HttpRequest request, String clientAddress, String host) {
        HttpHeaders headers = request.headers();
        dropHopByHop(headers);
        String forwardedFor = headers.get(X_FORWARDED_FOR);
        headers.set(X_FORWARDED_FOR, forwardedFor == null ? clientAddress : forwardedFor + ", " + clientAddress);
        headers.set(X_FORWARDED_PROTO, HTTP);
        headers.set(X_FORWARDED_HOST, host);
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
        String uri = request.uri();
        if (uri.regionMatches(true, 0, "http://", 0, 7)) {
            // absolute-form, as sent to a forward proxy: backends expect the origin-form path
            int path = uri.indexOf('/', 7);
            request.setUri(path < 0 ? "/" : uri.substring(path));
        }
    }

    /**
     * Removes the headers that describe one connection rather than the message (RFC 9110 7.6.1),
     * including those the Connection header names. Transfer-Encoding stays: bodies are re-framed
     * by the encoders on each side as they stream through.
     */
    static void dropHopByHop(HttpHeaders headers) {
        String connection = headers.get(HttpHeaderNames.CONNECTION);
        if (connection != null) {
            for (String token : connection.split(",")) {
                String name = token.trim();
                if (!name.isEmpty() && !name.equalsIgnoreCase("close") && !name.equalsIgnoreCase("keep-alive")) {
                    headers.remove(name);
                }
            }
            headers.remove(HttpHeaderNames.CONNECTION);
        }
        headers.remove(KEEP_ALIVE);
        headers.remove(PROXY_CONNECTION);
        headers.remove(HttpHeaderNames.TE);
        headers.remove(HttpHeaderNames.UPGRADE);
    }
}
