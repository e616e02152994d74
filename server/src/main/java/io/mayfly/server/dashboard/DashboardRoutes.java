package io.mayfly.server.dashboard;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import io.javalin.http.SameSite;
import io.mayfly.server.http.Access;
import io.mayfly.server.http.ApiError;
import io.mayfly.server.http.ConsoleEvents;
import io.mayfly.server.release.Actor;
import io.mayfly.server.release.AppLogs;
import io.mayfly.server.release.DeployLocked;
import io.mayfly.server.release.ReleaseService;
import io.mayfly.server.store.AppConfig;
import io.mayfly.server.store.Apps;
import io.mayfly.server.store.Audit;
import io.mayfly.server.store.Releases;
import io.mayfly.server.store.Stores;
import io.mayfly.server.store.Tokens;
import io.mayfly.server.web.AppViews;
import io.mayfly.wire.Views;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard: {@code /login}, {@code /apps}, {@code /apps/APP} (releases with rollback, instances, config vars,
 * deploy phases, requests chart), {@code /apps/APP/instances/ID} (live console), {@code /metrics} (the series of the apps
 * the token may read; server-wide ones for an admin). Reading and acting follow the same token scopes as the API; every
 * POST must carry the session's CSRF token.
 */
public final class DashboardRoutes {
    private static final Logger log = LoggerFactory.getLogger(DashboardRoutes.class);
    private static final int CONSOLE_ON_PAGE = 32 * 1024;
    private static final String SESSION = "mayfly.session";

    private final Sessions sessions;
    private final Access access;
    private final Apps apps;
    private final Releases releases;
    private final ReleaseService releaseService;
    private final AppConfig appConfig;
    private final Audit audit;
    private final AppViews views;
    private final AppLogs logs;
    private final RequestHistory history;
    private final PrometheusMeterRegistry metrics;
    private final String host;
    private final java.util.function.Supplier<DashboardPages.Hosts> hosts;

    /** @param hosts what runs and builds for this server: its embedded agent or the remote agents, and the build workers */
    public DashboardRoutes(
            Sessions sessions,
            Access access,
            Stores stores,
            ReleaseService releaseService,
            AppViews views,
            AppLogs logs,
            RequestHistory history,
            PrometheusMeterRegistry metrics,
            java.util.function.Supplier<DashboardPages.Hosts> hosts) {
        this.hosts = hosts;
        this.logs = logs;
        this.sessions = sessions;
        this.access = access;
        this.apps = stores.apps();
        this.releases = stores.releases();
        this.releaseService = releaseService;
        this.appConfig = stores.config();
        this.audit = stores.audit();
        this.views = views;
        this.history = history;
        this.metrics = metrics;
        this.host = hostName();
    }

    public void register(JavalinConfig config) {
        config.staticFiles.enableWebjars();
        var r = config.routes;
        r.get("/", ctx -> ctx.redirect("/apps"));
        r.get(
                "/login",
                ctx -> html(ctx, 200, DashboardPages.login(LoginRedirect.safeNext(ctx.queryParam("next")), null)));
        r.post("/login", this::login);
        r.post("/logout", page(ctx -> {
            sessions.close(session(ctx).id());
            ctx.removeCookie(Sessions.COOKIE, "/");
            ctx.redirect("/login", io.javalin.http.HttpStatus.SEE_OTHER);
        }));
        r.get("/apps", page(ctx -> {
            Tokens.Token token = token(ctx);
            List<DashboardPages.AppRow> rows = new ArrayList<>();
            for (Apps.App a : apps.all()) {
                if (access.allows(token, Access.Need.read, a.name()))
                    rows.add(new DashboardPages.AppRow(views.app(a), views.instances(a.name())));
            }
            html(ctx, 200, DashboardPages.apps(rows, session(ctx)));
        }));
        r.get("/apps/{app}", page(ctx -> {
            Apps.App app = app(ctx, Access.Need.read);
            boolean mayDeploy = access.allows(token(ctx), Access.Need.deploy, app.name());
            List<Audit.Entry> entries = mayDeploy ? audit.list(app.name(), 500) : List.of();
            List<DashboardPages.ReleaseRow> rows = releases.list(app.name()).stream()
                    .map(rel -> new DashboardPages.ReleaseRow(
                            views.release(rel), mayDeploy ? DashboardPages.actorOf(rel.version(), entries) : "-"))
                    .toList();
            Map<String, String> vars = mayDeploy ? new TreeMap<>(appConfig.get(app.name())) : Map.of();
            html(
                    ctx,
                    200,
                    DashboardPages.app(
                            views.app(app),
                            rows,
                            instancesHtml(app.name()),
                            DashboardPages.chart(app.name(), history.of(app.name())),
                            vars,
                            mayDeploy,
                            "1".equals(ctx.queryParam("reveal")),
                            notice(ctx),
                            session(ctx)));
        }));
        r.get("/hosts", page(ctx -> {
            access.require(token(ctx), Access.Need.admin, null);
            html(ctx, 200, DashboardPages.hosts(hosts.get(), Instant.now(), session(ctx)));
        }));
        r.get(
                "/apps/{app}/instances",
                page(ctx ->
                        html(ctx, 200, instancesHtml(app(ctx, Access.Need.read).name()))));
        r.get("/apps/{app}/chart", page(ctx -> {
            String app = app(ctx, Access.Need.read).name();
            html(ctx, 200, DashboardPages.chart(app, history.of(app)));
        }));
        r.post("/apps/{app}/rollback", action(Access.Need.deploy, (ctx, app) -> {
            Integer version = parseVersion(ctx.formParam("version"));
            ReleaseService.Result result = releaseService.rollback(app, version, line -> {});
            return result.ok()
                    ? "Rolled back: v" + result.release().version() + " ("
                            + result.release().description() + ") is live."
                    : "The rollback failed as v" + result.release().version() + ": " + result.failure()
                            + ". The previous release is still serving.";
        }));
        r.post("/apps/{app}/config", action(Access.Need.deploy, (ctx, app) -> {
            String key =
                    ctx.formParam("key") == null ? "" : ctx.formParam("key").trim();
            Map<String, String> change = new LinkedHashMap<>();
            change.put(key, ctx.formParam("value") == null ? "" : ctx.formParam("value"));
            try {
                return configChanged(app, "Set " + key, releaseService.setConfig(app, change, line -> {}));
            } catch (AppConfig.Invalid e) {
                throw ApiError.badRequest(e.getMessage(), e.hint());
            }
        }));
        r.post("/apps/{app}/config/unset", action(Access.Need.deploy, (ctx, app) -> {
            String key = ctx.formParam("key");
            if (key == null || !appConfig.get(app).containsKey(key))
                throw ApiError.notFound(app + " has no config var " + key, null);
            Map<String, String> change = new LinkedHashMap<>();
            change.put(key, null);
            return configChanged(app, "Unset " + key, releaseService.setConfig(app, change, line -> {}));
        }));
        r.get("/apps/{app}/instances/{id}", page(ctx -> {
            String app = app(ctx, Access.Need.read).name();
            Shown shown = shown(ctx, app);
            long size = shown.console() == null ? 0 : shown.console().toFile().length();
            html(
                    ctx,
                    200,
                    DashboardPages.instance(
                            app,
                            shown.view(),
                            shown.console() == null ? "" : ConsoleEvents.tail(shown.console(), size, CONSOLE_ON_PAGE),
                            size,
                            session(ctx)));
        }));
        r.sse("/apps/{app}/instances/{id}/console", client -> {
            Context ctx = client.ctx();
            try {
                String app = app(ctx, Access.Need.read).name();
                Shown shown = shown(ctx, app);
                if (shown.console() == null) return;
                long from = parseLong(ctx.queryParam("from"));
                ConsoleEvents.follow(client, shown.console(), from, shown.ended(), () -> "(the instance has stopped)");
            } catch (ApiError e) {
                client.sendEvent("line", "error: " + io.mayfly.server.http.Html.esc(e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        r.get("/metrics", ctx -> {
            Tokens.Token token = ctx.header("Authorization") != null
                    ? access.authenticate(ctx.header("Authorization"))
                    : sessionToken(ctx)
                            .orElseThrow(
                                    () -> new ApiError(
                                            401,
                                            "/metrics needs a token",
                                            "scrape with Authorization: Bearer TOKEN: an app's read token shows that app's series, the admin token all"));
            String shown = ScopedMetrics.scrape(
                    metrics.getPrometheusRegistry(),
                    app -> access.allows(token, Access.Need.read, app),
                    access.allows(token, Access.Need.admin, null));
            ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(shown);
        });
    }

    /** The session behind a dashboard request, if its cookie names a live one whose token is still good. */
    public Optional<Tokens.Token> sessionToken(Context ctx) {
        return currentSession(ctx).flatMap(s -> {
            try {
                return Optional.of(access.authenticate("Bearer " + s.secret()));
            } catch (ApiError e) {
                sessions.close(s.id());
                return Optional.empty();
            }
        });
    }

    // ---- login ----

    private void login(Context ctx) {
        String next = LoginRedirect.safeNext(ctx.formParam("next"));
        String secret =
                ctx.formParam("token") == null ? "" : ctx.formParam("token").trim();
        try {
            access.authenticate("Bearer " + secret);
        } catch (ApiError e) {
            html(ctx, 401, DashboardPages.login(next, e.getMessage() + (e.hint() == null ? "" : ". " + e.hint())));
            return;
        }
        Sessions.Session s = sessions.open(secret);
        Cookie cookie = new Cookie(Sessions.COOKIE, s.id());
        cookie.setHttpOnly(true);
        cookie.setSameSite(SameSite.STRICT);
        cookie.setPath("/");
        ctx.cookie(cookie);
        ctx.redirect(next, io.javalin.http.HttpStatus.SEE_OTHER);
    }

    // ---- sessions and access ----

    private interface Page {
        void handle(Context ctx) throws Exception;
    }

    private interface Action {
        /** Does the change and returns the notice to show on the app page. */
        String apply(Context ctx, String app) throws Exception;
    }

    /** A dashboard page: logged in or sent to the login page; errors become HTML error pages. */
    private Handler page(Page page) {
        return ctx -> {
            Optional<Sessions.Session> s = currentSession(ctx);
            Optional<Tokens.Token> token = s.isPresent() ? sessionToken(ctx) : Optional.empty();
            if (token.isEmpty()) {
                boolean htmx = ctx.header("HX-Request") != null;
                if (htmx) {
                    ctx.status(401).header("HX-Redirect", "/login").result("");
                } else {
                    String here = ctx.path() + (ctx.queryString() == null ? "" : "?" + ctx.queryString());
                    ctx.redirect(
                            "/login?next=" + URLEncoder.encode(here, StandardCharsets.UTF_8),
                            io.javalin.http.HttpStatus.SEE_OTHER);
                }
                return;
            }
            ctx.attribute(SESSION, s.get());
            ctx.attribute(Access.TOKEN, token.get());
            if (ctx.method().name().equals("POST") && !Sessions.csrfMatches(s.get(), ctx.formParam("csrf"))) {
                html(
                        ctx,
                        403,
                        DashboardPages.error(
                                403,
                                "this form did not carry this session's CSRF token",
                                "reload the page and submit the form again",
                                s.get()));
                return;
            }
            Actor.set("token " + token.get().id());
            try {
                page.handle(ctx);
            } catch (ApiError e) {
                html(ctx, e.status(), DashboardPages.error(e.status(), e.getMessage(), e.hint(), s.get()));
            } catch (DeployLocked e) {
                html(
                        ctx,
                        423,
                        DashboardPages.error(423, e.getMessage(), "unlock it with mayfly unlock -a APP", s.get()));
            } catch (HttpResponseException e) {
                ApiError refused = ApiError.from(e, ctx);
                html(
                        ctx,
                        refused.status(),
                        DashboardPages.error(refused.status(), refused.getMessage(), refused.hint(), s.get()));
            } catch (Exception e) {
                log.error("{} {} failed", ctx.method(), ctx.path(), e);
                html(ctx, 500, DashboardPages.error(500, "internal error: " + e, "see the server's log", s.get()));
            } finally {
                Actor.clear();
            }
        };
    }

    /** A POST that changes an app: checked like a page, then back to the app page with what happened. */
    private Handler action(Access.Need need, Action action) {
        return page(ctx -> {
            String app = app(ctx, need).name();
            String notice = action.apply(ctx, app);
            ctx.redirect(
                    "/apps/" + app + "?notice=" + URLEncoder.encode(notice, StandardCharsets.UTF_8),
                    io.javalin.http.HttpStatus.SEE_OTHER);
        });
    }

    /**
     * The notice after an action. It comes back through the URL, so it is only shown as plain text and only when it
     * looks like one of ours; a crafted link can at most show a misleading sentence, never markup.
     */
    private static String notice(Context ctx) {
        String n = ctx.queryParam("notice");
        if (n == null || n.length() > 500) return null;
        return n.startsWith("Rolled back")
                        || n.startsWith("The rollback failed")
                        || n.startsWith("Set ")
                        || n.startsWith("Unset ")
                ? n
                : null;
    }

    private static String configChanged(String app, String what, Optional<ReleaseService.Result> result) {
        if (result.isEmpty()) return what + ": saved; it takes effect with the first deploy.";
        ReleaseService.Result r = result.get();
        return r.ok()
                ? what + ": released as v" + r.release().version() + "."
                : what + ": released as v" + r.release().version() + " but it failed (" + r.failure()
                        + "); the previous release is still serving.";
    }

    private Optional<Sessions.Session> currentSession(Context ctx) {
        return sessions.find(ctx.cookie(Sessions.COOKIE));
    }

    private static Sessions.Session session(Context ctx) {
        return ctx.attribute(SESSION);
    }

    private static Tokens.Token token(Context ctx) {
        return ctx.attribute(Access.TOKEN);
    }

    private Apps.App app(Context ctx, Access.Need need) {
        String name = ctx.pathParam("app");
        Tokens.Token token = ctx.attribute(Access.TOKEN);
        if (token == null)
            token = sessionToken(ctx).orElseThrow(() -> new ApiError(401, "not logged in", "log in at /login"));
        if (!access.allows(token, Access.Need.read, name)) {
            throw ApiError.notFound("no app named " + name + " that your token may see", "see the apps at /apps");
        }
        access.require(token, need, name);
        return apps.find(name).orElseThrow(() -> ApiError.notFound("no app named " + name, "see the apps at /apps"));
    }

    /**
     * An instance as its page shows it, as its agent reports it, with its console as the agent sent it; and when its
     * console stops growing for good.
     */
    private record Shown(Views.InstanceView view, Path console, java.util.function.BooleanSupplier ended) {}

    private Shown shown(Context ctx, String app) {
        String id = ctx.pathParam("id");
        Views.InstanceView shown = instance(app, id)
                .orElseThrow(() -> ApiError.notFound(
                        "no running instance " + id + " of " + app, "see the instances at /apps/" + app));
        return new Shown(
                shown,
                logs.consoleMirror(app, id).orElse(null),
                () -> instance(app, id).map(v -> v.state().equals("exited")).orElse(true));
    }

    private Optional<Views.InstanceView> instance(String app, String id) {
        return views.instances(app).stream().filter(v -> v.id().equals(id)).findFirst();
    }

    /** The app's instances, with the memory their agents last measured. */
    private String instancesHtml(String app) {
        List<DashboardPages.InstanceRow> rows = views.instances(app).stream()
                .map(v -> new DashboardPages.InstanceRow(
                        v, v.host() == null ? host : "agent " + v.host(), v.residentBytes()))
                .toList();
        return DashboardPages.instances(app, rows, Instant.now());
    }

    // ---- small things ----

    private static Integer parseVersion(String v) {
        if (v == null || v.isBlank()) return null;
        try {
            return Integer.valueOf(v.trim().replaceFirst("^v", ""));
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("'" + v + "' is not a release version", "give a number such as 3 (for v3)");
        }
    }

    private static long parseLong(String v) {
        try {
            return v == null ? 0 : Long.parseLong(v);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static void html(Context ctx, int status, String page) {
        ctx.status(status).contentType("text/html; charset=utf-8").result(page);
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName() + " (embedded agent)";
        } catch (IOException e) {
            return "this host (embedded agent)";
        }
    }
}
