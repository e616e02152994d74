package io.mayfly.server.http;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The pages' shared frame (registry and dashboard) and the few formatting rules they all follow; every value goes through {@link #esc}. */
public final class Html {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
    private static final String STYLE = """
            body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1d1d1f}
            a{color:#0b57d0}nav{margin-bottom:1rem;color:#666}nav a{margin-right:.25rem}
            table{border-collapse:collapse;width:100%;margin:.5rem 0 1.25rem}th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #e3e3e3;vertical-align:top}
            th{background:#f6f6f6;font-weight:600}code,pre,.hash{font-family:ui-monospace,monospace;font-size:13px}
            .hash{word-break:break-all}pre{background:#f6f6f6;padding:.75rem;overflow:auto;max-height:40rem;white-space:pre-wrap}
            .succeeded,.yes{color:#137333;font-weight:600}.failed,.no{color:#b3261e;font-weight:600}.running{color:#a56300;font-weight:600}
            .changed{background:#fff4e5}.added{background:#e6f4ea}.removed{background:#fce8e6}small{color:#666}
            header{display:flex;gap:1rem;align-items:center;border-bottom:1px solid #e3e3e3;padding:.4rem 0;margin-bottom:.75rem}
            header .bar{margin-left:auto}form.inline{display:inline}button{font:inherit;padding:.2rem .7rem;cursor:pointer}
            .serving,.healthy,.live{color:#137333;font-weight:600}.superseded{color:#666}.staged,.booting{color:#a56300;font-weight:600}.exited,.stopped{color:#b3261e;font-weight:600}
            .phases{display:flex;height:1rem;min-width:12rem;background:#f6f6f6}.phases span{display:block;height:100%}
            .p0{background:#4285f4}.p1{background:#34a853}.p2{background:#fbbc04}.p3{background:#ea4335}.p4{background:#9334e6}.p5{background:#12b5cb}.p6{background:#777}
            .legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .2rem 0 .8rem;vertical-align:middle}
            svg.chart{background:#fafafa;border:1px solid #e3e3e3}svg.chart polyline{fill:none;stroke-width:1.5}
            label{display:inline-block;min-width:6rem}input[type=text],input[type=password]{font:inherit;padding:.2rem .4rem;width:22rem;max-width:100%}
            .error{background:#fce8e6;padding:.5rem .75rem}.note{color:#666}
            """;

    private Html() {}

    /** Escapes text for HTML element content and double-quoted attribute values. */
    public static String esc(Object value) {
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

    public static String page(String title, String nav, String body) {
        return page(title, nav, body, "");
    }

    /**
     * The frame of every page: the site bar (dashboard and registry), the page's own breadcrumbs, then its body.
     * {@code bar} is what goes at the bar's right end (the dashboard's logout button). htmx and its SSE extension
     * (from webjars) only make live parts live: every page reads fully without JavaScript.
     */
    public static String page(String title, String nav, String body, String bar) {
        return """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
                <title>%s - Mayfly</title><style>%s</style>
                <script src="/webjars/htmx.org/2.0.8/dist/htmx.min.js" defer></script>
                <script src="/webjars/htmx-ext-sse/2.2.2/sse.js" defer></script></head>
                <body><header><a href="/apps"><b>Mayfly</b></a> <a href="/apps">Apps</a> <a href="/job">Registry</a> <a href="/hosts">Hosts</a><span class="bar">%s</span></header>
                <nav>%s</nav>
                <main>
                %s
                </main>
                </body></html>
                """.formatted(esc(title), STYLE, bar, nav, body);
    }

    public static String link(String href, Object text) {
        return "<a href=\"" + esc(href) + "\">" + esc(text) + "</a>";
    }

    /** Encodes each segment of a path (an artifact name may hold slashes, spaces or anything else). */
    public static String path(String value) {
        return Arrays.stream(value.split("/", -1))
                .map(segment ->
                        URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"))
                .collect(Collectors.joining("/"));
    }

    public static String time(Instant t) {
        return t == null ? "-" : TIME.format(t);
    }

    public static String duration(Long ms) {
        if (ms == null) return "-";
        if (ms < 1000) return ms + " ms";
        long s = ms / 1000;
        return s < 60 ? String.format("%.1f s", ms / 1000.0) : (s / 60) + " min " + (s % 60) + " s";
    }

    public static String size(long bytes) {
        if (bytes < 1024) return bytes + " B";
        if (bytes < 1024 * 1024) return String.format("%.1f KiB", bytes / 1024.0);
        if (bytes < 1024L * 1024 * 1024) return String.format("%.1f MiB", bytes / 1024.0 / 1024);
        return String.format("%.2f GiB", bytes / 1024.0 / 1024 / 1024);
    }

    public static String status(String status) {
        return "<span class=\"" + esc(status) + "\">" + esc(status) + "</span>";
    }
}
