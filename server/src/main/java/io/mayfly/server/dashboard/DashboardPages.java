package io.mayfly.server.dashboard;

import static io.mayfly.server.http.Html.esc;
import static io.mayfly.server.http.Html.link;

import io.mayfly.server.http.Html;
import io.mayfly.server.store.Audit;
import io.mayfly.wire.Views;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The dashboard's HTML, rendered from the API's own records. Every value goes through {@link Html#esc}. */
public final class DashboardPages {
    private DashboardPages() {}

    /** What one row of the apps page shows. */
    record AppRow(Views.AppView app, List<Views.InstanceView> instances) {}

    /** One release with who made it (from the audit log). */
    record ReleaseRow(Views.ReleaseView release, String actor) {}

    /** One instance with what the agent knows beyond the API record. */
    record InstanceRow(Views.InstanceView instance, String host, long memoryBytes) {}

    static String login(String next, String error) {
        return Html.page("Log in", "", """
                <h1>Log in to Mayfly</h1>
                %s
                <form method="post" action="/login">
                <input type="hidden" name="next" value="%s">
                <p><label for="token">Token</label> <input type="password" id="token" name="token" autocomplete="current-password" required autofocus></p>
                <p class="note">The admin token is printed when <code>mayfly server</code> starts and kept in <code>DATA/admin.token</code>;
                an app token from <code>mayfly tokens:create</code> shows only what it may read.</p>
                <p><button type="submit">Log in</button></p>
                </form>""".formatted(
                        error == null ? "" : "<p class=\"error\" role=\"alert\">" + esc(error) + "</p>", esc(next)));
    }

    /** What runs and builds for the server: its embedded agent's drivers, or its remote agents; and the build workers present. */
    public record Hosts(
            boolean embedded,
            List<Views.DriverView> drivers,
            List<io.mayfly.wire.AgentViews.AgentView> agents,
            List<String> workers) {}

    static String hosts(Hosts h, Instant now, Sessions.Session s) {
        StringBuilder b = new StringBuilder("<h1>Hosts</h1>\n");
        if (h.embedded()) {
            b.append(
                    "<p>This server runs instances on its embedded agent. Drivers here:</p>\n<table><tr><th>Driver</th><th>Available</th><th>Instances</th><th>Detail</th></tr>\n");
            for (Views.DriverView d : h.drivers()) {
                b.append("<tr><td>")
                        .append(esc(d.name()))
                        .append("</td><td>")
                        .append(d.available() ? "yes" : "no")
                        .append("</td><td>")
                        .append(d.instances())
                        .append("</td><td>")
                        .append(esc(d.detail()))
                        .append("</td></tr>\n");
            }
            b.append("</table>\n");
        } else if (h.agents().isEmpty()) {
            b.append(
                    "<p>No agent has registered. On each host: <code>mayfly agent --server URL --token TOKEN --name HOST</code>, "
                            + "with a token from <code>mayfly tokens:create --agent HOST</code>.</p>\n");
        } else {
            b.append(
                    "<table><tr><th>Agent</th><th>Status</th><th>Drivers</th><th>Memory placed</th><th>Apps</th><th>Instances</th><th>Router</th><th>Last contact</th></tr>\n");
            for (var a : h.agents()) {
                b.append("<tr><td>")
                        .append(esc(a.name()))
                        .append("</td><td>")
                        .append(Html.status(a.status()))
                        .append("</td><td>")
                        .append(esc(String.join(", ", a.drivers())))
                        .append("</td><td>")
                        .append(a.usedMb())
                        .append(" / ")
                        .append(a.capacityMb())
                        .append(" MiB</td><td>")
                        .append(
                                a.apps().isEmpty()
                                        ? "-"
                                        : String.join(
                                                ", ",
                                                a.apps().stream()
                                                        .map(app -> link("/apps/" + app, app))
                                                        .toList()))
                        .append("</td><td>")
                        .append(a.instances())
                        .append("</td><td>")
                        .append(esc(a.router() == null ? "-" : a.router()))
                        .append("</td><td>")
                        .append(Math.max(
                                0,
                                java.time.Duration.between(a.lastContact(), now).toSeconds()))
                        .append(" s ago</td></tr>\n");
            }
            b.append("</table>\n");
        }
        b.append("<h2>Build workers</h2>\n")
                .append(
                        h.workers().isEmpty()
                                ? "<p>None present: this server builds in its own sandbox. Add one with <code>mayfly agent --server URL --token TOKEN --builds</code>.</p>\n"
                                : "<p>Builds run on: " + esc(String.join(", ", h.workers())) + ".</p>\n");
        return page("Hosts", link("/apps", "Apps") + " / Hosts", b.toString(), s);
    }

    static String apps(List<AppRow> rows, Sessions.Session s) {
        StringBuilder b = new StringBuilder("<h1>Apps</h1>\n");
        if (rows.isEmpty()) {
            b.append(
                    "<p>No apps you may see. Create one with <code>mayfly apps:create NAME</code>, then <code>git push</code> to it.</p>");
        } else {
            b.append(
                    "<table><tr><th>App</th><th>Live release</th><th>Instances</th><th>URL</th><th>Last deploy</th></tr>\n");
            for (AppRow r : rows) {
                Views.AppView a = r.app();
                b.append("<tr><td>")
                        .append(link("/apps/" + a.name(), a.name()))
                        .append("</td><td>")
                        .append(a.liveRelease() == 0 ? "none yet" : "v" + a.liveRelease())
                        .append("</td><td>")
                        .append(states(r.instances()))
                        .append("</td><td>")
                        .append(a.liveRelease() == 0 ? "-" : link(a.url(), a.url()))
                        .append("</td><td>")
                        .append(
                                a.lastDeployAt() == null
                                        ? "-"
                                        : esc(Html.time(a.lastDeployAt())) + " " + Html.status(a.lastDeployResult()))
                        .append("</td></tr>\n");
            }
            b.append("</table>\n");
        }
        return page("Apps", "Apps", b.toString(), s);
    }

    static String app(
            Views.AppView a,
            List<ReleaseRow> releases,
            String instances,
            String chart,
            Map<String, String> config,
            boolean mayDeploy,
            boolean revealed,
            String notice,
            Sessions.Session s) {
        StringBuilder b = new StringBuilder();
        b.append("<h1>").append(esc(a.name())).append("</h1>\n");
        if (notice != null)
            b.append("<p class=\"note\" role=\"status\">").append(esc(notice)).append("</p>\n");
        b.append("<table>");
        row(
                b,
                "Live",
                a.liveRelease() == 0
                        ? "nothing yet: push to the git URL below"
                        : "<b>v" + a.liveRelease() + "</b> at " + link(a.url(), a.url()));
        row(b, "Git", "<code>git push " + esc(a.gitUrl()) + " HEAD:main</code>");
        row(
                b,
                "Builds",
                link("/job/" + a.name(), "registry: every build, its console, provenance and artifacts")
                        + (a.isPublic()
                                ? " <small>(public: anyone may read it without a token)</small>"
                                : " <small>(private)</small>"));
        b.append("</table>\n");

        b.append("<h2>Instances</h2>\n").append(instances);
        b.append("<h2>Requests</h2>\n").append(chart);

        b.append("<h2>Releases</h2>\n");
        if (releases.isEmpty()) {
            b.append("<p>No releases yet.</p>\n");
        } else {
            b.append(
                    "<table><tr><th>Release</th><th>Status</th><th>What changed</th><th>By</th><th>When</th><th>Deploy phases</th><th></th></tr>\n");
            for (ReleaseRow rr : releases) {
                Views.ReleaseView r = rr.release();
                b.append("<tr><td>v")
                        .append(r.version())
                        .append(" <small>")
                        .append(link("/job/" + a.name() + "/build/" + r.build(), "build #" + r.build()))
                        .append("</small></td><td>")
                        .append(Html.status(r.status()))
                        .append(r.reason() == null ? "" : "<br><small>" + esc(r.reason()) + "</small>")
                        .append("</td><td>")
                        .append(esc(r.description()))
                        .append("</td><td>")
                        .append(esc(rr.actor()))
                        .append("</td><td>")
                        .append(esc(Html.time(r.createdAt())))
                        .append("</td><td>")
                        .append(phases(r.phases()))
                        .append("</td><td>");
                if (mayDeploy && r.version() != a.liveRelease() && !"failed".equals(r.status())) {
                    b.append(form(
                            "/apps/" + a.name() + "/rollback",
                            s,
                            "<input type=\"hidden\" name=\"version\" value=\"" + r.version() + "\">",
                            "Roll back to v" + r.version()));
                }
                b.append("</td></tr>\n");
            }
            b.append("</table>\n").append(legend());
        }

        b.append("<h2>Config vars</h2>\n");
        if (!mayDeploy) {
            b.append("<p>Your token may not read this app's config.</p>\n");
        } else {
            if (config.isEmpty()) {
                b.append("<p>None set.</p>\n");
            } else {
                b.append("<table><tr><th>Name</th><th>Value</th><th></th></tr>\n");
                config.forEach((k, v) -> b.append("<tr><td><code>")
                        .append(esc(k))
                        .append("</code></td><td><code>")
                        .append(revealed ? esc(v) : "&bull;&bull;&bull;&bull;&bull;&bull;")
                        .append("</code></td><td>")
                        .append(form(
                                "/apps/" + a.name() + "/config/unset",
                                s,
                                "<input type=\"hidden\" name=\"key\" value=\"" + esc(k) + "\">",
                                "Unset " + k))
                        .append("</td></tr>\n"));
                b.append("</table>\n<p>")
                        .append(
                                revealed
                                        ? link("/apps/" + a.name(), "Hide values")
                                        : link("/apps/" + a.name() + "?reveal=1", "Show values"))
                        .append("</p>\n");
            }
            b.append(form("/apps/" + a.name() + "/config", s, """
                    <label for="config-key">Name</label> <input type="text" id="config-key" name="key" required pattern="[A-Za-z_][A-Za-z0-9_]*">
                    <label for="config-value">Value</label> <input type="text" id="config-value" name="value">""", "Set (makes a release)"));
        }
        return page(a.name(), link("/apps", "Apps") + " / " + esc(a.name()), b.toString(), s);
    }

    /** The instances table, also served alone to refresh it in place. */
    static String instances(String app, List<InstanceRow> rows, Instant now) {
        StringBuilder b = new StringBuilder("<div id=\"instances\" hx-get=\"/apps/" + esc(app)
                + "/instances\" hx-trigger=\"every 2s\" hx-swap=\"outerHTML\">\n");
        if (rows.isEmpty()) {
            b.append("<p>No instances running.</p>");
        } else {
            b.append(
                    "<table><tr><th>Instance</th><th>Release</th><th>State</th><th>Driver</th><th>Host</th><th>Up</th><th>Restarts</th><th>Memory</th></tr>\n");
            for (InstanceRow r : rows) {
                Views.InstanceView i = r.instance();
                b.append("<tr><td>")
                        .append(link("/apps/" + app + "/instances/" + i.id(), i.id()))
                        .append("</td><td>v")
                        .append(i.release())
                        .append("</td><td>")
                        .append(Html.status(i.state()))
                        .append("</td><td>")
                        .append(esc(i.driver()))
                        .append("</td><td>")
                        .append(esc(r.host()))
                        .append("</td><td>")
                        .append(esc(uptime(i.startedAt(), now)))
                        .append("</td><td>")
                        .append(i.restarts())
                        .append("</td><td>")
                        .append(r.memoryBytes() == 0 ? "-" : esc(Html.size(r.memoryBytes())))
                        .append("</td></tr>\n");
            }
            b.append("</table>");
        }
        return b.append("\n</div>\n").toString();
    }

    /** Request rate and mean latency over the last minutes as an SVG chart, with the latest figures in words. */
    static String chart(String app, List<RequestHistory.Point> points) {
        StringBuilder b = new StringBuilder("<div id=\"chart\" hx-get=\"/apps/" + esc(app)
                + "/chart\" hx-trigger=\"every 5s\" hx-swap=\"outerHTML\">\n");
        if (points.size() < 2) {
            return b.append(
                            "<p>No request figures yet: they appear a few seconds after the router has served this app.</p></div>\n")
                    .toString();
        }
        RequestHistory.Point latest = points.getLast();
        double maxRate = Math.max(
                1,
                points.stream()
                        .mapToDouble(RequestHistory.Point::perSecond)
                        .max()
                        .orElse(1));
        double maxMs = Math.max(
                1,
                points.stream().mapToDouble(RequestHistory.Point::meanMs).max().orElse(1));
        int w = 600, h = 120;
        String summary =
                "Now %.1f requests/s, mean latency %.2f ms. Peaks over the last %d s: %.1f requests/s, %.2f ms."
                        .formatted(
                                latest.perSecond(),
                                latest.meanMs(),
                                points.size() * RequestHistory.STEP.toSeconds(),
                                maxRate,
                                maxMs);
        b.append("<svg class=\"chart\" width=\"")
                .append(w)
                .append("\" height=\"")
                .append(h)
                .append("\" role=\"img\" aria-label=\"")
                .append(esc(summary))
                .append("\"><polyline stroke=\"#4285f4\" points=\"")
                .append(line(points, w, h, maxRate, true))
                .append("\"/><polyline stroke=\"#ea4335\" points=\"")
                .append(line(points, w, h, maxMs, false))
                .append("\"/></svg>\n")
                .append("<p class=\"legend\"><span style=\"background:#4285f4\"></span>requests/s (scale to ")
                .append(String.format("%.1f", maxRate))
                .append(")<span style=\"background:#ea4335\"></span>mean latency (scale to ")
                .append(String.format("%.2f ms", maxMs))
                .append(")</p>\n")
                .append("<p>")
                .append(esc(summary))
                .append(" <small>Also at <code>/metrics</code> for Prometheus.</small></p>\n");
        return b.append("</div>\n").toString();
    }

    static String instance(String app, Views.InstanceView i, String console, long offset, Sessions.Session s) {
        String body = """
                <h1>Instance %s</h1>
                <table><tr><th>App</th><td>%s</td></tr><tr><th>Release</th><td>v%d</td></tr><tr><th>Driver</th><td>%s</td></tr>
                <tr><th>State</th><td>%s</td></tr><tr><th>Started</th><td>%s</td></tr><tr><th>Restarts</th><td>%d</td></tr></table>
                <h2>Console</h2>
                <p class="note">The last lines; new ones appear as the instance writes them.</p>
                <div hx-ext="sse" sse-connect="/apps/%s/instances/%s/console?from=%d">
                <pre id="console" aria-live="polite" sse-swap="line" hx-swap="beforeend">%s</pre>
                </div>""".formatted(
                        esc(i.id()),
                        link("/apps/" + app, app),
                        i.release(),
                        esc(i.driver()),
                        Html.status(i.state()),
                        esc(Html.time(i.startedAt())),
                        i.restarts(),
                        esc(app),
                        esc(i.id()),
                        offset,
                        esc(console));
        return page(i.id(), link("/apps", "Apps") + " / " + link("/apps/" + app, app) + " / " + esc(i.id()), body, s);
    }

    static String error(int status, String message, String hint, Sessions.Session s) {
        String title = status == 404 ? "Not found" : status == 403 ? "Not allowed" : "Something went wrong";
        return page(
                title,
                link("/apps", "Apps"),
                "<h1>" + esc(title) + "</h1>\n<p class=\"error\" role=\"alert\">" + esc(message) + "</p>\n"
                        + (hint == null ? "" : "<p>" + esc(hint) + "</p>\n") + "<p><small>HTTP " + status
                        + "</small></p>",
                s);
    }

    private static String page(String title, String nav, String body, Sessions.Session s) {
        String bar = s == null ? "" : form("/logout", s, "", "Log out");
        return Html.page(title, nav, body, bar);
    }

    /** A POST form with the session's CSRF token; its button's text is its accessible name. */
    static String form(String action, Sessions.Session s, String fields, String button) {
        return "<form class=\"inline\" method=\"post\" action=\"" + esc(action)
                + "\"><input type=\"hidden\" name=\"csrf\" value=\"" + esc(s.csrf()) + "\">" + fields
                + " <button type=\"submit\">" + esc(button) + "</button></form>";
    }

    private static String states(List<Views.InstanceView> instances) {
        if (instances.isEmpty()) return "none";
        StringBuilder b = new StringBuilder();
        for (Views.InstanceView i : instances) {
            if (!b.isEmpty()) b.append(", ");
            b.append(esc(i.driver())).append(" ").append(Html.status(i.state()));
            if (i.restarts() > 0) b.append(" <small>(").append(i.restarts()).append(" restarts)</small>");
        }
        return b.toString();
    }

    /** The deploy's phases as one bar, each phase's width its share of the total; the numbers are in the title and text. */
    private static String phases(Map<String, Long> phases) {
        if (phases == null || phases.isEmpty()) return "-";
        long total =
                Math.max(1, phases.values().stream().mapToLong(Long::longValue).sum());
        StringBuilder bar = new StringBuilder("<div class=\"phases\" role=\"img\" aria-label=\"");
        StringBuilder text = new StringBuilder();
        phases.forEach((k, v) ->
                text.append(text.isEmpty() ? "" : ", ").append(k).append(" ").append(Html.duration(v)));
        bar.append(esc(text)).append("\">");
        for (var e : phases.entrySet()) {
            bar.append("<span class=\"p")
                    .append(PHASE_ORDER.indexOf(e.getKey()) < 0 ? 6 : PHASE_ORDER.indexOf(e.getKey()))
                    .append("\" style=\"width:")
                    .append(String.format("%.2f", 100.0 * e.getValue() / total))
                    .append("%\" title=\"")
                    .append(esc(e.getKey() + " " + Html.duration(e.getValue())))
                    .append("\"></span>");
        }
        return bar.append("</div><small>").append(esc(text)).append("</small>").toString();
    }

    private static final List<String> PHASE_ORDER = List.of("build", "store", "boot", "health", "switch", "drain");

    private static String legend() {
        StringBuilder b = new StringBuilder("<p class=\"legend\"><small>Phases:</small>");
        for (int i = 0; i < PHASE_ORDER.size(); i++)
            b.append("<span class=\"p").append(i).append("\"></span>").append(PHASE_ORDER.get(i));
        return b.append("</p>\n").toString();
    }

    private static String line(List<RequestHistory.Point> points, int w, int h, double max, boolean rate) {
        StringBuilder b = new StringBuilder();
        int n = points.size();
        for (int i = 0; i < n; i++) {
            double v = rate ? points.get(i).perSecond() : points.get(i).meanMs();
            b.append(String.format("%.1f,%.1f ", (double) i * (w - 4) / (n - 1) + 2, h - 4 - v / max * (h - 8)));
        }
        return b.toString().trim();
    }

    private static String uptime(Instant started, Instant now) {
        if (started == null) return "-";
        Duration d = Duration.between(started, now);
        if (d.toSeconds() < 60) return d.toSeconds() + " s";
        if (d.toMinutes() < 60) return d.toMinutes() + " min";
        return d.toHours() + " h " + d.toMinutesPart() + " min";
    }

    private static void row(StringBuilder b, String name, String html) {
        b.append("<tr><th>").append(esc(name)).append("</th><td>").append(html).append("</td></tr>");
    }

    /** Who made each release, from the audit log's "release" entries ("vN: description"). */
    static String actorOf(int version, List<Audit.Entry> entries) {
        String prefix = "v" + version + ":";
        return entries.stream()
                .filter(e -> "release".equals(e.action())
                        && e.detail() != null
                        && e.detail().startsWith(prefix))
                .map(Audit.Entry::actor)
                .findFirst()
                .orElse("-");
    }
}
