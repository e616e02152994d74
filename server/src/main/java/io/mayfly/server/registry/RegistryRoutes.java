package io.mayfly.server.registry;

import static io.mayfly.server.http.Answers.json;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.mayfly.server.http.Access;
import io.mayfly.server.http.ApiError;
import io.mayfly.server.http.ConsoleEvents;
import io.mayfly.server.http.Html;
import io.mayfly.server.release.AppLogs;
import io.mayfly.server.release.ReleaseService;
import io.mayfly.server.store.Apps;
import io.mayfly.server.store.BuildIndex;
import io.mayfly.server.store.Builds;
import io.mayfly.server.store.Rebuilds;
import io.mayfly.server.store.Releases;
import io.mayfly.server.store.Stores;
import io.mayfly.server.store.Tokens;
import io.mayfly.wire.ArtifactSignatures;
import io.mayfly.wire.Json;
import io.mayfly.wire.RegistryViews.ArtifactDetail;
import io.mayfly.wire.RegistryViews.BuildDetail;
import io.mayfly.wire.RegistryViews.CompareView;
import io.mayfly.wire.RegistryViews.DeployBuild;
import io.mayfly.wire.RegistryViews.HashHit;
import io.mayfly.wire.RegistryViews.HashView;
import io.mayfly.wire.RegistryViews.JobView;
import io.mayfly.wire.RegistryViews.SigningKeyView;
import io.mayfly.wire.RegistryViews.Verdict;
import io.mayfly.wire.Views;
import io.mayfly.wire.manifest.Manifest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry in builder-web's URL layout: {@code /job}, {@code /job/APP}, {@code /job/APP/build/N} (console,
 * provenance.json, artifact/FILE and FILE.sig), {@code /job/APP/build/latest/...}, {@code /hash?sha256=},
 * {@code /compare/...}, and the same data as JSON under {@code /api/v1}; plus deploying a stored build.
 * Who may read an app's pages is {@link Access#readRegistry}: anyone for a public app, otherwise a token (bearer, or
 * the HTTP basic password) or a dashboard login that may read the app.
 */
public final class RegistryRoutes {
    private static final Logger log = LoggerFactory.getLogger(RegistryRoutes.class);
    private static final String TOKEN = io.mayfly.server.http.Access.TOKEN;
    private static final Pattern SHA256 = Pattern.compile("(?:sha256:)?([0-9a-f]{64})");
    private static final Pattern BUILD_REF = Pattern.compile("([a-z][a-z0-9-]{0,62}):(\\d+)");
    private static final Pattern LATEST = Pattern.compile("/(build|builds)/latest(?=/|$)");
    /**
     * The JSON reads below that decide for themselves who may read (a public app's, anyone): the API's before-handler
     * lets these through without a token. Each segment is matched as the route's {@code {param}} is, on the same path.
     */
    private static final Pattern API_READS = Pattern.compile(
            "/api/v1/(jobs|hash|signing-key|apps/[^/]+/builds/[^/]+|compare/[^/]+/[^/]+|compare/[^/]+/[^/]+/[^/]+)");
    /** The build page shows the end of a longer console and links to the whole. */
    private static final long CONSOLE_ON_PAGE = 256 * 1024;

    /** How a route answers errors: an HTML page, plain text (downloads, console), or the API's JSON. */
    private enum Kind {
        PAGE,
        TEXT,
        JSON
    }

    private final Access access;
    private final Apps apps;
    private final Builds builds;
    private final BuildIndex index;
    private final Rebuilds rebuilds;
    private final AppLogs logs;
    private final SigningKey signingKey;
    private final ArtifactDownload download;
    private final StoredBuildDeploy deploys;
    /** A dashboard login, for browsers that come without an Authorization header. */
    private final java.util.function.Function<Context, java.util.Optional<Tokens.Token>> session;

    public RegistryRoutes(
            Access access,
            Stores stores,
            ReleaseService releaseService,
            AppLogs logs,
            SigningKey signingKey,
            java.util.function.Function<Context, java.util.Optional<Tokens.Token>> session) {
        this.access = access;
        this.session = session;
        this.apps = stores.apps();
        this.builds = stores.builds();
        this.index = stores.buildIndex();
        this.rebuilds = stores.rebuilds();
        this.logs = logs;
        this.signingKey = signingKey;
        this.download = new ArtifactDownload(stores.blobs());
        this.deploys = new StoredBuildDeploy(builds, index, stores.releases(), releaseService);
    }

    public void register(JavalinConfig config) {
        var r = config.routes;
        r.get(
                "/job",
                handle(
                        Kind.PAGE,
                        ctx -> html(
                                ctx, RegistryPages.jobs(jobs(ctx), caller(ctx).isPresent()))));
        r.get("/job/{app}", handle(Kind.PAGE, ctx -> {
            String app = readableApp(ctx);
            html(
                    ctx,
                    RegistryPages.builds(
                            app,
                            builds.list(app, 200).stream()
                                    .map(b -> detail(b, false))
                                    .toList()));
        }));
        r.get("/job/{app}/build/{n}", handle(Kind.PAGE, ctx -> {
            Builds.Build build = build(ctx);
            Path console = logs.buildLog(build.app(), build.number());
            String text = null;
            long size = Files.isRegularFile(console) ? Files.size(console) : 0;
            if (Files.isRegularFile(console)) text = ConsoleEvents.tail(console, size, CONSOLE_ON_PAGE);
            html(ctx, RegistryPages.build(detail(build, true), text, size > CONSOLE_ON_PAGE, size));
        }));
        r.sse("/job/{app}/build/{n}/console/live", client -> {
            Context ctx = client.ctx();
            try {
                Builds.Build build = build(ctx);
                long from = ctx.queryParam("from") == null ? 0 : Long.parseLong(ctx.queryParam("from"));
                ConsoleEvents.follow(
                        client,
                        logs.buildLog(build.app(), build.number()),
                        from,
                        () -> builds.find(build.app(), build.number())
                                .map(b -> b.status() != Builds.Status.running)
                                .orElse(true),
                        () -> builds.find(build.app(), build.number())
                                .map(b -> Html.status(b.status().name()) + " <small>"
                                        + Html.link("/job/" + b.app() + "/build/" + b.number(), "show its artifacts")
                                        + "</small>")
                                .orElse(""));
            } catch (ApiError | NumberFormatException e) {
                client.sendEvent("line", Html.esc("error: " + e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        r.get("/job/{app}/build/{n}/console", handle(Kind.TEXT, ctx -> {
            Builds.Build build = build(ctx);
            Path console = logs.buildLog(build.app(), build.number());
            if (!Files.isRegularFile(console)) {
                throw ApiError.notFound(
                        "no console log was recorded for build #" + build.number() + " of " + build.app(),
                        "see the build page /job/" + build.app() + "/build/" + build.number());
            }
            ctx.contentType("text/plain; charset=utf-8").result(Files.newInputStream(console));
        }));
        r.get("/job/{app}/build/{n}/provenance.json", handle(Kind.TEXT, ctx -> {
            Builds.Build build = build(ctx);
            if (build.provenance() == null) {
                throw ApiError.notFound(
                        "build #" + build.number() + " of " + build.app()
                                + " has no recorded provenance: it ended before it ran",
                        "see its console at /job/" + build.app() + "/build/" + build.number() + "/console");
            }
            ctx.contentType("application/json").result(build.provenance());
        }));
        r.get("/job/{app}/build/{n}/artifact/<file>", handle(Kind.TEXT, this::artifact));
        r.head("/job/{app}/build/{n}/artifact/<file>", handle(Kind.TEXT, this::artifact));
        r.get("/hash", handle(Kind.PAGE, ctx -> {
            HashView view = hash(ctx);
            if (wantsJson(ctx)) json(ctx, 200, view);
            else html(ctx, RegistryPages.hash(view));
        }));
        r.get("/compare/{app}/{a}/{b}", handle(Kind.PAGE, ctx -> html(ctx, RegistryPages.compare(compareOneApp(ctx)))));
        r.get("/compare/{a}/{b}", handle(Kind.PAGE, ctx -> html(ctx, RegistryPages.compare(compareRefs(ctx)))));

        r.get("/api/v1/jobs", handle(Kind.JSON, ctx -> json(ctx, 200, jobs(ctx))));
        r.get("/api/v1/apps/{app}/builds/{n}", handle(Kind.JSON, ctx -> json(ctx, 200, detail(build(ctx), true))));
        r.get("/api/v1/hash", handle(Kind.JSON, ctx -> json(ctx, 200, hash(ctx))));
        r.get("/api/v1/compare/{app}/{a}/{b}", handle(Kind.JSON, ctx -> json(ctx, 200, compareOneApp(ctx))));
        r.get("/api/v1/compare/{a}/{b}", handle(Kind.JSON, ctx -> json(ctx, 200, compareRefs(ctx))));
        r.get(
                "/api/v1/signing-key",
                handle(
                        Kind.JSON,
                        ctx -> json(
                                ctx,
                                200,
                                new SigningKeyView(
                                        SigningKey.ALGORITHM,
                                        Base64.getEncoder().encodeToString(signingKey.publicKeyDer()),
                                        signingKey.fingerprint(),
                                        ArtifactSignatures.DESCRIPTION))));
        r.post("/api/v1/apps/{app}/deploys", handle(Kind.JSON, ctx -> {
            String app = app(ctx, Access.Need.deploy);
            DeployBuild body = Json.readBody(ctx.body(), DeployBuild.class);
            if ((body.build() == null)
                    == (body.sha256() == null || body.sha256().isBlank())) {
                throw ApiError.badRequest(
                        "say which build to deploy: give either build (a number) or sha256, not both",
                        "e.g. {\"build\": 3} or {\"sha256\": \"...\"}; see mayfly builds -a " + app);
            }
            if (body.strategy() != null && !Manifest.STRATEGIES.contains(body.strategy())) {
                throw ApiError.badRequest(
                        "'" + body.strategy() + "' is not a deploy strategy",
                        "use one of " + String.join(", ", Manifest.STRATEGIES));
            }
            json(
                    ctx,
                    201,
                    releaseView(deploys.deploy(
                            app, body.build(), body.build() == null ? body.sha256() : null, body.strategy())));
        }));
    }

    // ---- what each route answers ----

    private void artifact(Context ctx) throws Exception {
        Builds.Build build = build(ctx);
        String file = ctx.pathParam("file");
        Optional<Builds.Artifact> artifact = build.artifact(file);
        if (artifact.isEmpty() && file.endsWith(".sig")) {
            Builds.Artifact signed = requireArtifact(build, file.substring(0, file.length() - 4));
            ctx.contentType("text/plain; charset=us-ascii").result(signingKey.signArtifact(signed.sha256()) + "\n");
            return;
        }
        try {
            download.send(ctx, build, artifact.orElseGet(() -> requireArtifact(build, file)));
        } catch (ArtifactDownload.CorruptArtifact e) {
            throw new ApiError(
                    500,
                    e.getMessage(),
                    "the bytes on disk no longer match the sha256 recorded when the build stored them; "
                            + "an operator must restore the blob from a backup or rebuild the app (see the server's log)");
        }
    }

    /** The apps the caller may read; with no token and no public app, the 401 there always was. */
    private List<JobView> jobs(Context ctx) {
        Optional<Tokens.Token> caller = caller(ctx);
        List<JobView> jobs = new ArrayList<>();
        for (Apps.App a : apps.all()) {
            if (!access.mayReadRegistry(caller, a)) continue;
            Optional<Builds.Build> latest = builds.list(a.name(), 1).stream().findFirst();
            jobs.add(new JobView(
                    a.name(),
                    latest.map(Builds.Build::number).orElse(null),
                    latest.map(b -> b.status().name()).orElse(null),
                    latest.map(Builds.Build::startedAt).orElse(null),
                    index.latestSucceeded(a.name()).orElse(null),
                    "/job/" + a.name()));
        }
        if (jobs.isEmpty() && caller.isEmpty()) throw Access.noToken();
        return jobs;
    }

    private HashView hash(Context ctx) {
        String query = ctx.queryParam("sha256");
        Matcher m = SHA256.matcher(query == null ? "" : query.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw ApiError.badRequest(
                    "'" + (query == null ? "" : query) + "' is not a sha256",
                    "ask for /hash?sha256=HEX with the 64 hex digits of an artifact's sha256");
        }
        String sha = m.group(1);
        Optional<Tokens.Token> caller = caller(ctx);
        List<HashHit> hits = new ArrayList<>();
        for (BuildIndex.Hit hit : index.byArtifactHash(sha)) {
            if (!apps.find(hit.app())
                    .map(app -> access.mayReadRegistry(caller, app))
                    .orElse(false)) continue;
            builds.find(hit.app(), hit.build())
                    .ifPresent(b -> hits.add(new HashHit(
                            hit.app(),
                            hit.build(),
                            hit.artifact(),
                            hit.size(),
                            b.status().name(),
                            b.startedAt(),
                            buildUrl(b))));
        }
        if (hits.isEmpty() && caller.isEmpty()) {
            // The same answer whether a private app built it or nothing did.
            throw new ApiError(
                    401,
                    "no public build produced an artifact with sha256:" + sha + ", and this request carries no token "
                            + "to look among private apps",
                    "send Authorization: Bearer TOKEN with a token that may read the app that built it");
        }
        if (hits.isEmpty()) {
            throw ApiError.notFound(
                    "no build you may read produced an artifact with sha256:" + sha,
                    "check the hash (sha256sum FILE), or ask for a token that may read the app that built it");
        }
        return new HashView(sha, hits);
    }

    private CompareView compareOneApp(Context ctx) {
        String app = readableApp(ctx);
        return compare(find(app, ctx.pathParam("a")), find(app, ctx.pathParam("b")));
    }

    private CompareView compareRefs(Context ctx) {
        return compare(ref(ctx, ctx.pathParam("a")), ref(ctx, ctx.pathParam("b")));
    }

    private Builds.Build ref(Context ctx, String text) {
        Matcher m = BUILD_REF.matcher(text);
        if (!m.matches()) {
            throw ApiError.notFound(
                    "'" + text + "' does not name a build",
                    "compare two builds as /compare/APP/A/B (one app) or /compare/APP:A/OTHER:B (any two apps), e.g. /compare/hello/1/2");
        }
        String app = access.readRegistry(caller(ctx), m.group(1), apps.find(m.group(1)))
                .name();
        return find(app, m.group(2));
    }

    private CompareView compare(Builds.Build left, Builds.Build right) {
        return ProvenanceDiff.compare(left, buildUrl(left), right, buildUrl(right));
    }

    // ---- views ----

    private BuildDetail detail(Builds.Build b, boolean full) {
        String url = buildUrl(b);
        List<ArtifactDetail> artifacts = b.artifacts().stream()
                .map(a -> {
                    String artifactUrl = url + "/artifact/" + Html.path(a.name());
                    return new ArtifactDetail(
                            a.name(),
                            a.sha256(),
                            a.size(),
                            artifactUrl,
                            signingKey.signArtifact(a.sha256()),
                            artifactUrl + ".sig");
                })
                .toList();
        JsonNode provenance = null;
        Verdict verdict = null;
        if (full) {
            provenance = b.provenance() == null ? null : Json.read(b.provenance(), JsonNode.class);
            verdict = rebuilds.latest(b.app(), b.number())
                    .map(v -> new Verdict(v.rebuild(), v.reproducible(), v.differences(), v.createdAt()))
                    .orElse(null);
        }
        return new BuildDetail(
                b.app(),
                b.number(),
                b.status().name(),
                b.source(),
                b.commitId(),
                b.command(),
                b.exitCode(),
                b.reason(),
                b.startedAt(),
                b.durationMs(),
                b.mainArtifact().map(Builds.Artifact::name).orElse(null),
                artifacts,
                provenance,
                verdict,
                url,
                url + "/console",
                url + "/provenance.json",
                b.manifest());
    }

    private Views.ReleaseView releaseView(Releases.Release r) {
        return r.view(builds.find(r.app(), r.build()).flatMap(Builds.Build::mainArtifact));
    }

    private static String buildUrl(Builds.Build b) {
        return "/job/" + b.app() + "/build/" + b.number();
    }

    // ---- finding things, and who may see them ----

    /** The build the path names; {@code latest} redirects to the newest successful build's same URL. */
    private Builds.Build build(Context ctx) {
        String app = readableApp(ctx);
        String n = ctx.pathParam("n");
        if (n.equals("latest")) {
            int latest = index.latestSucceeded(app)
                    .orElseThrow(() -> ApiError.notFound(
                            app + " has no successful build yet",
                            "see its builds at /job/" + app + ", or push to build it"));
            String target = LATEST.matcher(ctx.path()).replaceFirst("/$1/" + latest);
            throw new Redirect(ctx.queryString() == null ? target : target + "?" + ctx.queryString());
        }
        return find(app, n);
    }

    private Builds.Build find(String app, String number) {
        int n;
        try {
            n = Integer.parseInt(number);
        } catch (NumberFormatException e) {
            throw ApiError.notFound(
                    "'" + number + "' is not a build number",
                    "builds are numbered 1, 2, 3...; see /job/" + app
                            + ", or use latest for the newest successful build");
        }
        return builds.find(app, n)
                .orElseThrow(() -> ApiError.notFound(
                        "app " + app + " has no build #" + n,
                        "see its builds at /job/" + app + " (or mayfly builds -a " + app + ")"));
    }

    private static Builds.Artifact requireArtifact(Builds.Build build, String file) {
        return build.artifact(file)
                .orElseThrow(() -> ApiError.notFound(
                        "build #" + build.number() + " of " + build.app() + " has no artifact named " + file,
                        build.artifacts().isEmpty()
                                ? "this build stored no artifacts; see /job/" + build.app() + "/build/" + build.number()
                                : "its artifacts: "
                                        + String.join(
                                                ", ",
                                                build.artifacts().stream()
                                                        .map(Builds.Artifact::name)
                                                        .toList())));
    }

    /** The app the path names, if the caller may read its registry. */
    private String readableApp(Context ctx) {
        String name = ctx.pathParam("app");
        return access.readRegistry(caller(ctx), name, apps.find(name)).name();
    }

    /** The app the path names, if the caller's token may do {@code need} on it: a public registry grants nothing here. */
    private String app(Context ctx, Access.Need need) {
        String name = ctx.pathParam("app");
        access.require(caller(ctx).orElseThrow(Access::noToken), need, name);
        return apps.find(name)
                .map(Apps.App::name)
                .orElseThrow(() -> ApiError.notFound("no app named " + name, "see all apps at /job (or mayfly apps)"));
    }

    /**
     * Who is asking: the token the API's before-handler checked, or the one this request carries (a wrong one is a 401),
     * or a page's dashboard login; empty when none.
     */
    private Optional<Tokens.Token> caller(Context ctx) {
        Tokens.Token token = ctx.attribute(TOKEN);
        if (token != null) return Optional.of(token);
        String authorization = ctx.header("Authorization");
        if (authorization == null) return ctx.path().startsWith("/api/") ? Optional.empty() : session.apply(ctx);
        token = access.authenticate(authorization);
        ctx.attribute(TOKEN, token);
        return Optional.of(token);
    }

    /**
     * Whether this is one of the registry's JSON reads, which decide for themselves who may read them: the API's
     * before-handler lets it through without a token.
     */
    public static boolean readsWithoutToken(Context ctx) {
        return (ctx.method() == HandlerType.GET || ctx.method() == HandlerType.HEAD)
                && API_READS.matcher(ctx.path()).matches();
    }

    // ---- answering ----

    private static final class Redirect extends RuntimeException {
        final String location;

        Redirect(String location) {
            super(location, null, false, false);
            this.location = location;
        }
    }

    private static Handler handle(Kind kind, Handler handler) {
        return ctx -> {
            try {
                handler.handle(ctx);
            } catch (Redirect r) {
                ctx.status(302).header("Location", r.location).result("");
            } catch (ApiError e) {
                if (kind == Kind.JSON) throw e;
                error(ctx, kind, e.status(), e.getMessage(), e.hint());
            } catch (Exception e) {
                if (kind == Kind.JSON) throw e;
                log.error("{} {} failed", ctx.method(), ctx.path(), e);
                error(ctx, kind, 500, "internal error: " + e, "see the server's log");
            }
        };
    }

    private static void error(Context ctx, Kind kind, int status, String message, String hint) {
        if (ctx.res().isCommitted()) return;
        ctx.res().reset();
        if (status == 401
                && kind == Kind.PAGE
                && ctx.header("Authorization") == null
                && !wantsJson(ctx)
                && acceptsHtml(ctx)) {
            ctx.status(303)
                    .header("Location", "/login?next=" + java.net.URLEncoder.encode(ctx.path(), StandardCharsets.UTF_8))
                    .result("");
            return;
        }
        if (status == 401) ctx.header("WWW-Authenticate", "Basic realm=\"mayfly\", charset=\"UTF-8\"");
        ctx.status(status);
        if (kind == Kind.PAGE && wantsJson(ctx)) {
            json(ctx, status, new Views.ErrorView(status, message, hint));
        } else if (kind == Kind.PAGE) {
            html(ctx, RegistryPages.error(status, message, hint));
        } else {
            ctx.contentType("text/plain; charset=utf-8")
                    .result("error: " + message + (hint == null ? "" : "\nhint: " + hint) + "\n");
        }
    }

    private static boolean acceptsHtml(Context ctx) {
        String accept = ctx.header("Accept");
        return accept != null && accept.contains("text/html");
    }

    private static boolean wantsJson(Context ctx) {
        String accept = ctx.header("Accept");
        return accept != null && accept.contains("application/json") && !accept.contains("text/html");
    }

    private static void html(Context ctx, String page) {
        ctx.contentType("text/html; charset=utf-8").result(page);
    }
}
