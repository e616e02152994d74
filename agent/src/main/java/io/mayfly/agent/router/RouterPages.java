package io.mayfly.agent.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** The short HTML pages the router answers itself when it cannot forward a request. */
final class RouterPages {
    private RouterPages() {}

    static FullHttpResponse page(HttpResponseStatus status, String message, boolean keepAlive) {
        String title = status.code() + " " + status.reasonPhrase();
        String html = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" + title + "</title></head>\n"
                + "<body><h1>" + title + "</h1>\n<p>" + escape(message)
                + "</p>\n<hr><p>Mayfly router</p></body></html>\n";
        ByteBuf body = Unpooled.wrappedBuffer(html.getBytes(StandardCharsets.UTF_8));
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/html; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return response;
    }

    static String unknownApp(String app, String domain) {
        return "no app named " + app + " on this Mayfly; apps are served at APP." + domain;
    }

    static String notUnderDomain(String host, String domain) {
        return "no app for host " + host + " on this Mayfly; apps are served at APP." + domain;
    }

    static String missingHost(String domain) {
        return "the request has no Host header; apps are served at APP." + domain;
    }

    static String noBackend(String app) {
        return "app " + app + " has no healthy instance right now; try again shortly (mayfly ps " + app
                + " shows its instances)";
    }

    static String backendFailed(String app, Backend backend, String what) {
        return "app " + app + ": instance " + backend.instanceId() + " at " + backend.host() + ":" + backend.port()
                + " " + what + "; see the app's logs (mayfly logs " + app + ")";
    }

    static String twoHosts() {
        return "the request has more than one Host header; send exactly one";
    }

    static String headTimeout(String timeout) {
        return "the request's head did not arrive within " + timeout + "; the connection is closed";
    }

    static String bodyTimeout(String timeout) {
        return "the request's body stopped coming for " + timeout + "; the connection is closed";
    }

    /** A timeout as people write it: 300 ms, 30 s, 5 min. */
    static String duration(long nanos) {
        long millis = nanos / 1_000_000;
        if (millis % 1000 != 0) {
            return millis + " ms";
        }
        long seconds = millis / 1000;
        return seconds % 60 == 0 && seconds > 0 ? seconds / 60 + " min" : seconds + " s";
    }

    static String badRequest(String why) {
        return "the router could not read this request: " + why;
    }

    private static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
