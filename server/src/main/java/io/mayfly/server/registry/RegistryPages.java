package io.mayfly.server.registry;

import static io.mayfly.server.http.Html.esc;
import static io.mayfly.server.http.Html.link;

import com.fasterxml.jackson.databind.JsonNode;
import io.mayfly.server.http.Html;
import io.mayfly.wire.RegistryViews.ArtifactChange;
import io.mayfly.wire.RegistryViews.ArtifactDetail;
import io.mayfly.wire.RegistryViews.BuildDetail;
import io.mayfly.wire.RegistryViews.BuildRef;
import io.mayfly.wire.RegistryViews.CompareView;
import io.mayfly.wire.RegistryViews.FieldChange;
import io.mayfly.wire.RegistryViews.HashHit;
import io.mayfly.wire.RegistryViews.HashView;
import io.mayfly.wire.RegistryViews.JobView;
import io.mayfly.wire.RegistryViews.MapDiff;
import io.mayfly.wire.RegistryViews.Verdict;
import java.util.List;
import java.util.Map;

/** The registry's HTML, rendered from the same records the JSON endpoints return, so both always agree. */
final class RegistryPages {
    private RegistryPages() {}

    /** @param signedIn false for a request with no token, which sees the public apps only */
    static String jobs(List<JobView> jobs, boolean signedIn) {
        StringBuilder rows = new StringBuilder();
        for (JobView j : jobs) {
            rows.append("<tr><td>")
                    .append(link(j.url(), j.app()))
                    .append("</td><td>")
                    .append(
                            j.latestBuild() == null
                                    ? "no builds yet"
                                    : link(j.url() + "/build/" + j.latestBuild(), "#" + j.latestBuild()))
                    .append("</td><td>")
                    .append(j.latestStatus() == null ? "-" : Html.status(j.latestStatus()))
                    .append("</td><td>")
                    .append(esc(Html.time(j.latestStartedAt())))
                    .append("</td><td>")
                    .append(
                            j.latestSucceededBuild() == null
                                    ? "-"
                                    : link(j.url() + "/build/latest", "#" + j.latestSucceededBuild()))
                    .append("</td></tr>\n");
        }
        String body = jobs.isEmpty()
                ? "<p>No apps you may read. Create one with <code>mayfly apps:create NAME</code>.</p>"
                : """
                <table><tr><th>App</th><th>Latest build</th><th>Status</th><th>Started</th><th>Latest successful</th></tr>
                %s</table>""".formatted(rows);
        String more = signedIn
                ? ""
                : "<p>These are the public apps. " + link("/login?next=/job", "Sign in") + " to see the others.</p>\n";
        return Html.page("Jobs", "<a href=\"/job\">Registry</a>", "<h1>Jobs</h1>\n" + more + body + searchForm());
    }

    static String builds(String app, List<BuildDetail> builds) {
        StringBuilder rows = new StringBuilder();
        for (BuildDetail b : builds) {
            ArtifactDetail main = main(b);
            rows.append("<tr><td>")
                    .append(link(b.url(), "#" + b.number()))
                    .append("</td><td>")
                    .append(Html.status(b.status()))
                    .append("</td><td><code>")
                    .append(esc(abbreviate(b.commit())))
                    .append("</code></td><td>")
                    .append(esc(Html.time(b.startedAt())))
                    .append("</td><td>")
                    .append(esc(Html.duration(b.durationMs())))
                    .append("</td><td>")
                    .append(main == null ? "-" : link(main.url(), main.name()))
                    .append("</td><td class=\"hash\">")
                    .append(main == null ? "" : esc(main.sha256()))
                    .append("</td><td>")
                    .append(main == null ? "" : esc(Html.size(main.size())))
                    .append("</td></tr>\n");
        }
        String body = builds.isEmpty()
                ? "<p>No builds yet. Push to the app's git URL to start one.</p>"
                : """
                <p>Newest first. %s always points at the newest successful build.</p>
                <table><tr><th>Build</th><th>Status</th><th>Commit</th><th>Started</th><th>Duration</th><th>Artifact</th><th>sha256</th><th>Size</th></tr>
                %s</table>""".formatted(link("/job/" + app + "/build/latest", "/job/" + app + "/build/latest"), rows);
        return Html.page(
                app, "<a href=\"/job\">Registry</a> / " + esc(app), "<h1>Builds of " + esc(app) + "</h1>\n" + body);
    }

    static String build(BuildDetail b, String console, boolean consoleCut, long consoleSize) {
        StringBuilder body = new StringBuilder();
        boolean running = "running".equals(b.status());
        body.append("<h1>")
                .append(esc(b.app()))
                .append(" build #")
                .append(b.number())
                .append(" <span id=\"build-status\"")
                .append(running ? " sse-swap=\"done\"" : "")
                .append(">")
                .append(Html.status(b.status()))
                .append("</span></h1>\n");
        body.append("<table>");
        row(body, "Source", esc(b.source()) + (b.commit() == null ? "" : " <code>" + esc(b.commit()) + "</code>"));
        row(
                body,
                "Command",
                "<code>" + esc(b.command()) + "</code>"
                        + (b.exitCode() == null ? "" : " (exit code " + b.exitCode() + ")"));
        row(body, "Started", esc(Html.time(b.startedAt())) + ", took " + esc(Html.duration(b.durationMs())));
        if (b.reason() != null) row(body, "Failed because", esc(b.reason()));
        row(body, "Reproducible", verdict(b.reproducibility()));
        if (b.number() > 1) {
            row(
                    body,
                    "Compare",
                    link(
                            "/compare/" + b.app() + "/" + (b.number() - 1) + "/" + b.number(),
                            "with build #" + (b.number() - 1)));
        }
        body.append("</table>\n<h2>Artifacts</h2>\n");
        if (b.artifacts().isEmpty()) {
            body.append("<p>None: this build stored no artifacts.</p>\n");
        } else {
            body.append("<table><tr><th>File</th><th>sha256</th><th>Size</th><th>Signature</th></tr>\n");
            for (ArtifactDetail a : b.artifacts()) {
                body.append("<tr><td>")
                        .append(link(a.url(), a.name()))
                        .append(a.name().equals(b.mainArtifact()) ? " <small>(main)</small>" : "")
                        .append("</td><td class=\"hash\">")
                        .append(link("/hash?sha256=" + a.sha256(), a.sha256()))
                        .append("</td><td>")
                        .append(esc(Html.size(a.size())))
                        .append("</td><td>")
                        .append(link(a.signatureUrl(), "Ed25519 .sig"))
                        .append("</td></tr>\n");
            }
            body.append(
                    "</table>\n<p><small>Each .sig is the base64 Ed25519 signature over the ASCII text <code>sha256:HEX</code> of the file, "
                            + "by the key at <a href=\"/api/v1/signing-key\">/api/v1/signing-key</a>. Check a download with "
                            + "<code>mayfly verify FILE --app " + esc(b.app()) + " --build " + b.number()
                            + "</code>.</small></p>\n");
        }
        body.append("<h2>Provenance</h2>\n")
                .append(provenance(b.provenance()))
                .append("<p>")
                .append(link(b.provenanceUrl(), "provenance.json"))
                .append("</p>\n");
        body.append("<h2>Console</h2>\n");
        if (running) {
            // The page's one SSE connection (see the end) appends each new line here and swaps the status when it ends.
            body.append(
                            "<p><small>The build is running: new lines appear below as it writes them; reload when it ends for the artifacts.</small></p>\n")
                    .append("<pre id=\"console\" aria-live=\"polite\" sse-swap=\"line\" hx-swap=\"beforeend\">")
                    .append(console == null ? "" : esc(console))
                    .append("</pre>\n");
        } else if (console == null) {
            body.append("<p>No console log was recorded for this build.</p>\n");
        } else {
            if (consoleCut)
                body.append("<p><small>Only the end is shown; the whole log is at ")
                        .append(link(b.consoleUrl(), "console"))
                        .append(".</small></p>\n");
            body.append("<pre>")
                    .append(esc(console))
                    .append("</pre>\n<p>")
                    .append(link(b.consoleUrl(), "console as text"))
                    .append("</p>\n");
        }
        String page = running
                ? "<div hx-ext=\"sse\" sse-connect=\"" + esc(b.url()) + "/console/live?from=" + consoleSize
                        + "\" sse-close=\"done\">\n" + body + "</div>\n"
                : body.toString();
        return Html.page(
                b.app() + " #" + b.number(),
                "<a href=\"/job\">Registry</a> / " + link("/job/" + b.app(), b.app()) + " / #" + b.number(),
                page);
    }

    static String hash(HashView view) {
        StringBuilder rows = new StringBuilder();
        for (HashHit h : view.builds()) {
            rows.append("<tr><td>")
                    .append(link("/job/" + h.app(), h.app()))
                    .append("</td><td>")
                    .append(link(h.url(), "#" + h.build()))
                    .append("</td><td>")
                    .append(esc(h.artifact()))
                    .append("</td><td>")
                    .append(esc(Html.size(h.size())))
                    .append("</td><td>")
                    .append(Html.status(h.status()))
                    .append("</td><td>")
                    .append(esc(Html.time(h.startedAt())))
                    .append("</td></tr>\n");
        }
        return Html.page(
                "sha256:" + view.sha256(),
                "<a href=\"/job\">Registry</a> / hash",
                """
                <h1>Builds that produced <span class="hash">sha256:%s</span></h1>
                <table><tr><th>App</th><th>Build</th><th>Artifact</th><th>Size</th><th>Status</th><th>Started</th></tr>
                %s</table>""".formatted(esc(view.sha256()), rows) + searchForm());
    }

    static String compare(CompareView c) {
        StringBuilder body = new StringBuilder();
        body.append("<h1>")
                .append(ref(c.left()))
                .append(" compared with ")
                .append(ref(c.right()))
                .append("</h1>\n");
        body.append("<p>")
                .append(
                        c.sameInputs()
                                ? "<span class=\"yes\">Same inputs</span>: the inputs digests are equal."
                                : "<span class=\"no\">Different inputs</span>: see what changed below.")
                .append("</p>\n");
        body.append("<h2>Artifacts</h2>\n<table><tr><th>File</th><th>#")
                .append(c.left().build())
                .append("</th><th>#")
                .append(c.right().build())
                .append("</th><th></th></tr>\n");
        for (ArtifactChange a : c.artifacts()) {
            body.append("<tr class=\"")
                    .append(a.same() ? "" : "changed")
                    .append("\"><td>")
                    .append(esc(a.name()))
                    .append("</td><td class=\"hash\">")
                    .append(esc(a.left() == null ? "(none)" : a.left()))
                    .append("</td><td class=\"hash\">")
                    .append(esc(a.right() == null ? "(none)" : a.right()))
                    .append("</td><td>")
                    .append(a.same() ? "same" : "differs")
                    .append("</td></tr>\n");
        }
        body.append("</table>\n<h2>Inputs</h2>\n<table><tr><th>Field</th><th>#")
                .append(c.left().build())
                .append("</th><th>#")
                .append(c.right().build())
                .append("</th></tr>\n");
        for (FieldChange f : c.fields()) {
            body.append("<tr class=\"")
                    .append(f.same() ? "" : "changed")
                    .append("\"><td>")
                    .append(esc(f.field()))
                    .append("</td><td><code>")
                    .append(esc(f.left()))
                    .append("</code></td><td><code>")
                    .append(esc(f.right()))
                    .append("</code></td></tr>\n");
        }
        body.append("</table>\n");
        mapDiff(body, "Tool versions", c.tools());
        mapDiff(body, "Environment", c.environment());
        mapDiff(body, "OS packages", c.packages());
        body.append("""
                <p><small>Compare URLs: <code>/compare/APP/A/B</code> for builds A and B of one app, or
                <code>/compare/APP:A/OTHER:B</code> across apps; the JSON is the same path under <code>/api/v1</code>.
                "Added" means only the right-hand build has it.</small></p>""");
        return Html.page("compare", "<a href=\"/job\">Registry</a> / compare", body.toString());
    }

    static String error(int status, String message, String hint) {
        String title = switch (status) {
            case 401 -> "Sign in needed";
            case 403 -> "Not allowed";
            case 404 -> "Not found";
            default -> "Error " + status;
        };
        String extra = status == 401
                ? "<p>Use any user name and an API token as the password (for example <code>curl -u mayfly:TOKEN URL</code>).</p>"
                : "";
        return Html.page(
                title,
                "",
                "<h1>" + esc(title) + "</h1>\n<p>" + esc(message) + "</p>\n"
                        + (hint == null ? "" : "<p>" + esc(hint) + "</p>\n") + extra + "<p>" + link("/job", "All jobs")
                        + "</p>");
    }

    private static void mapDiff(StringBuilder body, String title, MapDiff d) {
        body.append("<h3>").append(esc(title)).append("</h3>\n");
        if (d.added().isEmpty() && d.removed().isEmpty() && d.changed().isEmpty()) {
            body.append("<p>All ").append(d.unchanged()).append(" equal.</p>\n");
            return;
        }
        body.append("<p>")
                .append(d.unchanged())
                .append(" equal; the differences:</p>\n<table><tr><th>Name</th><th>Left</th><th>Right</th></tr>\n");
        d.removed()
                .forEach((k, v) -> body.append("<tr class=\"removed\"><td>")
                        .append(esc(k))
                        .append("</td><td><code>")
                        .append(esc(v))
                        .append("</code></td><td>(removed)</td></tr>\n"));
        d.added()
                .forEach((k, v) -> body.append("<tr class=\"added\"><td>")
                        .append(esc(k))
                        .append("</td><td>(added)</td><td><code>")
                        .append(esc(v))
                        .append("</code></td></tr>\n"));
        d.changed()
                .forEach((k, v) -> body.append("<tr class=\"changed\"><td>")
                        .append(esc(k))
                        .append("</td><td><code>")
                        .append(esc(v.left()))
                        .append("</code></td><td><code>")
                        .append(esc(v.right()))
                        .append("</code></td></tr>\n"));
        body.append("</table>\n");
    }

    private static String provenance(JsonNode p) {
        if (p == null || p.isNull() || p.isMissingNode())
            return "<p>None recorded: the build ended before it ran.</p>\n";
        StringBuilder out = new StringBuilder("<table>");
        row(out, "Source", "<code>" + esc(p.path("source").asText("")) + "</code>");
        row(out, "OS release", esc(p.path("osRelease").asText("")));
        row(out, "Command", "<code>" + esc(p.path("command").asText("")) + "</code>");
        row(
                out,
                "Inputs digest",
                "<span class=\"hash\">" + esc(p.path("inputsDigest").asText("")) + "</span>");
        row(out, "Tools", pairs(p.path("tools")));
        row(out, "Environment", pairs(p.path("environment")));
        row(
                out,
                "OS packages",
                "<details><summary>" + p.path("packages").size() + " installed on the builder</summary>"
                        + pairs(p.path("packages")) + "</details>");
        return out.append("</table>\n").toString();
    }

    private static String pairs(JsonNode map) {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            out.append("<code>")
                    .append(esc(e.getKey()))
                    .append("</code> = <code>")
                    .append(esc(e.getValue().asText()))
                    .append("</code><br>");
        }
        return out.isEmpty() ? "-" : out.toString();
    }

    private static String verdict(Verdict v) {
        if (v == null) return "not checked yet (<code>mayfly builds:rebuild</code> checks it)";
        String when = " <small>(rebuild #" + v.rebuild() + ", " + esc(Html.time(v.recordedAt())) + ")</small>";
        return v.reproducible()
                ? "<span class=\"yes\">reproducible</span>: every artifact hash matched" + when
                : "<span class=\"no\">not reproducible</span>" + when + "<pre>" + esc(v.differences()) + "</pre>";
    }

    private static String ref(BuildRef r) {
        return link(r.url(), r.app() + " #" + r.build());
    }

    private static void row(StringBuilder out, String label, String html) {
        out.append("<tr><th>")
                .append(esc(label))
                .append("</th><td>")
                .append(html)
                .append("</td></tr>\n");
    }

    private static ArtifactDetail main(BuildDetail b) {
        return b.artifacts().stream()
                .filter(a -> a.name().equals(b.mainArtifact()))
                .findFirst()
                .orElse(b.artifacts().isEmpty() ? null : b.artifacts().get(0));
    }

    private static String abbreviate(String commit) {
        return commit == null ? "" : commit.substring(0, Math.min(12, commit.length()));
    }

    private static String searchForm() {
        return """
                <form action="/hash" method="get"><label>Find the build of a sha256: <input name="sha256" size="70" \
                pattern="(sha256:)?[0-9a-fA-F]{64}"></label> <button>Find</button></form>""";
    }
}
