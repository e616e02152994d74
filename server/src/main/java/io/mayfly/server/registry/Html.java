package io.mayfly.server.registry;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The registry pages' shared frame and the few formatting rules they all follow; every value goes through {@link #esc}. */
final class Html {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
    private static final String STYLE = """
            body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1d1d1f}
            a{color:#0b57d0}nav{margin-bottom:1rem;color:#666}nav a{margin-right:.25rem}
            table{border-collapse:collapse;width:100%;margin:.5rem 0 1.25rem}th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #e3e3e3;vertical-align:top}
            th{background:#f6f6f6;font-weight:600}code,pre,.hash{font-family:ui-monospace,monospace;font-size:13px}
            .hash{word-break:break-all}pre{background:#f6f6f6;padding:.75rem;overflow:auto;max-height:40rem;white-space:pre-wrap}
            .succeeded,.yes{color:#137333;font-weight:600}.failed,.no{color:#b3261e;font-weight:600}.running{color:#a56300;font-weight:600}
            .changed{background:#fff4e5}.added{background:#e6f4ea}.removed{background:#fce8e6}small{color:#666}
            """;

    private Html() {}

    /** Escapes text for HTML element content and double-quoted attribute values. */
    static String esc(Object value) {
        if (value == null) return "";
        String s = value.toString();
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    static String page(String title, String nav, String body) {
        return """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
                <title>%s - Mayfly registry</title><style>%s</style></head>
                <body><nav><a href="/job">Mayfly registry</a>%s</nav>
                %s
                </body></html>
                """.formatted(esc(title), STYLE, nav, body);
    }

    static String link(String href, Object text) {
        return "<a href=\"" + esc(href) + "\">" + esc(text) + "</a>";
    }

    /** Encodes each segment of a path (an artifact name may hold slashes, spaces or anything else). */
    static String path(String value) {
        return Arrays.stream(value.split("/", -1))
                .map(segment -> URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"))
                .collect(Collectors.joining("/"));
    }

    static String time(Instant t) { return t == null ? "-" : TIME.format(t); }

    static String duration(Long ms) {
        if (ms == null) return "-";
        if (ms < 1000) return ms + " ms";
        long s = ms / 1000;
        return s < 60 ? String.format("%.1f s", ms / 1000.0) : (s / 60) + " min " + (s % 60) + " s";
    }

    static String size(long bytes) {
        if (bytes < 1024) return bytes + " B";
        if (bytes < 1024 * 1024) return String.format("%.1f KiB", bytes / 1024.0);
        if (bytes < 1024L * 1024 * 1024) return String.format("%.1f MiB", bytes / 1024.0 / 1024);
        return String.format("%.2f GiB", bytes / 1024.0 / 1024 / 1024);
    }

    static String status(String status) {
        return "<span class=\"" + esc(status) + "\">" + esc(status) + "</span>";
    }
}
