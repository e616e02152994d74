package io.mayfly.server.web;

import static io.mayfly.server.http.Answers.json;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.mayfly.server.git.GitRepositories;
import io.mayfly.server.http.Access;
import io.mayfly.server.http.ApiError;
import io.mayfly.server.http.Html;
import io.mayfly.server.http.RequestBodies;
import io.mayfly.server.registry.RegistryRoutes;
import io.mayfly.server.release.Actor;
import io.mayfly.server.release.AppLogs;
import io.mayfly.server.release.DeployLocked;
import io.mayfly.server.release.ReleaseService;
import io.mayfly.server.store.AppConfig;
import io.mayfly.server.store.Apps;
import io.mayfly.server.store.Audit;
import io.mayfly.server.store.Builds;
import io.mayfly.server.store.Releases;
import io.mayfly.server.store.Stores;
import io.mayfly.server.store.Tokens;
import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The REST API under {@code /api/v1}: JSON in, JSON out, every route checked against the caller's token. */
public final class ApiRoutes {
    private static final Logger log = LoggerFactory.getLogger(ApiRoutes.class);
    private static final Pattern APP_NAME = Pattern.compile("[a-z][a-z0-9-]{0,62}");
    private static final int MAX_LOCK_REASON = 1000;
    /** What a public registry means, as the audit log says it. */
    private static final String PUBLIC = "anyone may read its builds and artifacts without a token";

    /** The answer to a config change: the var names now set, and the release it made (null before the first deploy). */
    public record ConfigChange(List<String> names, Views.ReleaseView release) {}

    private final java.util.function.Supplier<Views.ServerInfo> info;
    private final Access access;
    private final Apps apps;
    private final Builds builds;
    private final Releases releases;
    private final ReleaseService releaseService;
    private final GitRepositories repos;
    private final AppLogs logs;
    private final AppConfig appConfig;
    private final Audit audit;
    private final AppViews views;

    public ApiRoutes(
            java.util.function.Supplier<Views.ServerInfo> info,
            Access access,
            Stores stores,
            ReleaseService releaseService,
            GitRepositories repos,
            AppLogs logs,
            AppViews views) {
        this.info = info;
        this.access = access;
        this.apps = stores.apps();
        this.builds = stores.builds();
        this.releases = stores.releases();
        this.releaseService = releaseService;
        this.repos = repos;
        this.logs = logs;
        this.appConfig = stores.config();
        this.audit = stores.audit();
        this.views = views;
    }

    public void register(JavalinConfig config) {
        var r = config.routes;
        r.exception(ApiError.class, (e, ctx) -> error(ctx, e.status(), e.getMessage(), e.hint()));
        r.exception(IllegalArgumentException.class, (e, ctx) -> error(ctx, 400, e.getMessage(), null));
        r.exception(AppConfig.Invalid.class, (e, ctx) -> error(ctx, 400, e.getMessage(), e.hint()));
        r.exception(Exception.class, (e, ctx) -> {
            log.error("{} {} failed", ctx.method(), ctx.path(), e);
            error(ctx, 500, "internal error: " + e, "see the server's log");
        });
        r.error(404, ctx -> {
            // A handler's own 404 stands; Javalin's default ("Endpoint GET /x not found", set once static files are on)
            // does not.
            String result = ctx.result();
            if (result != null && !(result.startsWith("Endpoint ") && result.endsWith(" not found"))) return;
            String accept = ctx.header("Accept");
            if (!ctx.path().startsWith("/api/") && accept != null && accept.contains("text/html")) {
                ctx.contentType("text/html; charset=utf-8")
                        .result(
                                Html.page(
                                        "Not found",
                                        "<a href=\"/apps\">Apps</a>",
                                        "<h1>Not found</h1>\n<p class=\"error\" role=\"alert\">There is no page at "
                                                + Html.esc(ctx.path())
                                                + ".</p>\n<p>See the <a href=\"/apps\">apps</a> or the <a href=\"/job\">registry</a>.</p>"));
            } else {
                error(ctx, 404, "no such endpoint: " + ctx.method() + " " + ctx.path(), "the API lives under /api/v1");
            }
        });
        r.error(413, ctx -> {
            // Javalin's own refusal of a body past RequestBodies.MAX_BODY ("Content Too Large"); ours say which limit
            // already.
            String result = ctx.result();
            if (result == null || !result.contains(HttpStatus.CONTENT_TOO_LARGE.getMessage())) return;
            ApiError refused = RequestBodies.tooLarge(ctx, RequestBodies.MAX_BODY);
            String accept = ctx.header("Accept");
            if (!ctx.path().startsWith("/api/") && accept != null && accept.contains("text/html")) {
                ctx.contentType("text/html; charset=utf-8")
                        .result(Html.page(
                                "Too large",
                                "<a href=\"/apps\">Apps</a>",
                                "<h1>Too large</h1>\n<p class=\"error\" role=\"alert\">"
                                        + Html.esc(refused.getMessage()) + ".</p>\n<p>" + Html.esc(refused.hint())
                                        + ".</p>"));
            } else {
                error(ctx, 413, refused.getMessage(), refused.hint());
            }
        });
        r.exception(DeployLocked.class, (e, ctx) -> error(ctx, 423, e.getMessage(), null));
        r.before("/api/v1/*", ctx -> {
            if (ctx.path().startsWith("/api/v1/hooks/")) return; // webhooks prove themselves with their signature
            // A public app's registry as JSON: the registry's own rule (Access#readRegistry) decides who reads it.
            if (ctx.header("Authorization") == null && RegistryRoutes.readsWithoutToken(ctx)) return;
            Tokens.Token token = access.authenticate(ctx.header("Authorization"));
            ctx.attribute(Access.TOKEN, token);
            Actor.set("token " + token.id());
        });
        r.after("/api/v1/*", ctx -> Actor.clear());

        r.get("/api/v1/info", ctx -> json(ctx, 200, info.get()));
        r.get("/api/v1/drivers", ctx -> json(ctx, 200, views.drivers()));
        r.post("/api/v1/drivers/{driver}/reprobe", ctx -> {
            // An admin, for every host or the one named; an agent token, for its own host.
            Tokens.Token token = ctx.attribute(Access.TOKEN);
            String host = ctx.queryParam("agent");
            if (host == null && "agent".equals(token.scope())) host = token.app();
            if (host == null || !access.allows(token, Access.Need.agent, host))
                access.require(token, Access.Need.admin, null);
            Views.Reprobed reprobed = views.reprobe(ctx.pathParam("driver"), host);
            log.info("driver {} reprobed on {} ({})", reprobed.driver(), reprobed.hosts(), Actor.current());
            json(ctx, 200, reprobed);
        });
        r.get("/api/v1/apps", ctx -> {
            List<Views.AppView> views = new ArrayList<>();
            for (Apps.App a : apps.all()) {
                if (access.allows(ctx.attribute(Access.TOKEN), Access.Need.read, a.name()))
                    views.add(this.views.app(a));
            }
            json(ctx, 200, views);
        });
        r.post("/api/v1/apps", ctx -> {
            need(ctx, Access.Need.admin, null);
            Views.CreateApp body = Json.readBody(ctx.body(), Views.CreateApp.class);
            String name = body.name() == null ? "" : body.name();
            if (!APP_NAME.matcher(name).matches()) {
                throw ApiError.badRequest(
                        "'" + name + "' is not a valid app name",
                        "use a DNS label: a lowercase letter, then up to 62 lowercase letters, digits or dashes");
            }
            if (!apps.create(name, body.isPublic())) {
                throw new ApiError(
                        409, "an app named " + name + " already exists", "pick another name, or see mayfly apps");
            }
            audit.record(name, Actor.current(), "create", body.isPublic() ? PUBLIC : null);
            repos.open(name).close();
            releaseService.created(name);
            logs.event(name, "app created");
            json(ctx, 201, views.app(apps.find(name).orElseThrow()));
        });
        r.get("/api/v1/apps/{app}", ctx -> json(ctx, 200, views.app(app(ctx, Access.Need.read))));
        r.patch("/api/v1/apps/{app}", ctx -> {
            Apps.App app = app(ctx, Access.Need.deploy);
            Views.ChangeApp body = Json.readBody(ctx.body().isBlank() ? "{}" : ctx.body(), Views.ChangeApp.class);
            if (body.isPublic() == null) {
                throw ApiError.badRequest(
                        "say whether " + app.name()
                                + "'s registry is public: {\"public\": true} or {\"public\": false}",
                        "mayfly apps:public -a " + app.name() + " on|off");
            }
            if (apps.setPublic(app.name(), body.isPublic())) {
                audit.record(
                        app.name(),
                        Actor.current(),
                        "public",
                        body.isPublic() ? "on: " + PUBLIC : "off: its registry needs a token again");
                logs.event(app.name(), "registry made " + (body.isPublic() ? "public" : "private"));
            }
            json(ctx, 200, views.app(apps.find(app.name()).orElseThrow()));
        });
        r.delete("/api/v1/apps/{app}", ctx -> {
            Apps.App app = app(ctx, Access.Need.admin);
            if (!app.name().equals(ctx.queryParam("confirm"))) {
                throw ApiError.badRequest(
                        "destroying " + app.name() + " needs confirmation",
                        "repeat the app's name: mayfly apps:destroy " + app.name() + " --confirm " + app.name());
            }
            releaseService.locked(app.name(), line -> {}, () -> {
                Runnable tellItsAgent = releaseService.forgetting(app.name());
                int revoked = apps.delete(app.name());
                tellItsAgent.run();
                repos.delete(app.name());
                logs.delete(app.name());
                audit.record(
                        app.name(),
                        Actor.current(),
                        "destroy",
                        revoked == 0 ? null : "revoked " + revoked + " token" + (revoked == 1 ? "" : "s"));
                return null;
            });
            ctx.status(204);
        });
        r.get("/api/v1/apps/{app}/releases", ctx -> {
            Apps.App app = app(ctx, Access.Need.read);
            json(
                    ctx,
                    200,
                    releases.list(app.name()).stream().map(views::release).toList());
        });
        r.post("/api/v1/apps/{app}/rollback", ctx -> {
            Apps.App app = app(ctx, Access.Need.deploy);
            Views.Rollback body =
                    ctx.body().isBlank() ? new Views.Rollback(null) : Json.readBody(ctx.body(), Views.Rollback.class);
            ReleaseService.Result result = releaseService.rollback(app.name(), body.version(), line -> {});
            if (!result.ok()) {
                throw new ApiError(
                        409,
                        "rollback to " + result.release().description() + " failed as v"
                                + result.release().version() + ": " + result.failure(),
                        "the previous release is still serving; see mayfly logs -a " + app.name());
            }
            json(ctx, 201, views.release(result.release()));
        });
        r.get("/api/v1/apps/{app}/config", ctx -> {
            Apps.App app = app(ctx, Access.Need.deploy);
            json(ctx, 200, appConfig.get(app.name()));
        });
        r.patch("/api/v1/apps/{app}/config", ctx -> {
            Apps.App app = app(ctx, Access.Need.deploy);
            var result = releaseService.setConfig(app.name(), configChanges(ctx.body()), line -> {});
            if (result.isPresent() && !result.get().ok()) {
                throw new ApiError(
                        409,
                        "the config change was released as v"
                                + result.get().release().version() + " but it failed: "
                                + result.get().failure(),
                        "the previous release is still serving with the previous config");
            }
            json(
                    ctx,
                    200,
                    new ConfigChange(
                            appConfig.get(app.name()).keySet().stream().sorted().toList(),
                            result.map(rr -> views.release(rr.release())).orElse(null)));
        });
        r.post("/api/v1/apps/{app}/lock", ctx -> {
            Apps.App app = app(ctx, Access.Need.deploy);
            String reason = Json.readBody(ctx.body().isBlank() ? "{}" : ctx.body(), JsonNode.class)
                    .path("reason")
                    .asText("");
            if (reason.isBlank())
                throw ApiError.badRequest(
                        "a lock needs a reason", "mayfly lock -a " + app.name() + " --reason \"...\"");
            if (reason.length() > MAX_LOCK_REASON) {
                throw ApiError.badRequest(
                        "a lock's reason may be at most " + MAX_LOCK_REASON + " characters; this one has "
                                + reason.length(),
                        "say why in a sentence, and link to the rest");
            }
            if (!audit.lock(app.name(), reason, Actor.current())) {
                throw new ApiError(
                        409,
                        app.name() + " is already locked",
                        "see mayfly audit -a " + app.name() + ", or mayfly unlock -a " + app.name());
            }
            audit.record(app.name(), Actor.current(), "lock", reason);
            json(ctx, 201, audit.lockOf(app.name()).orElseThrow());
        });
        r.delete("/api/v1/apps/{app}/lock", ctx -> {
            Apps.App app = app(ctx, Access.Need.deploy);
            if (!audit.unlock(app.name())) throw ApiError.notFound(app.name() + " is not locked", null);
            audit.record(app.name(), Actor.current(), "unlock", null);
            ctx.status(204);
        });
        r.get("/api/v1/apps/{app}/audit", ctx -> {
            Apps.App app = app(ctx, Access.Need.deploy);
            json(ctx, 200, audit.list(app.name(), 500));
        });
        r.post("/api/v1/apps/{app}/scale", ctx -> {
            Apps.App app = app(ctx, Access.Need.deploy);
            var body = Json.readBody(ctx.body().isBlank() ? "{}" : ctx.body(), JsonNode.class)
                    .path("instances");
            if (!body.isIntegralNumber() || !body.canConvertToInt() || body.asInt() < 0 || body.asInt() > 64) {
                throw ApiError.badRequest(
                        "scale needs an instance count from 0 to 64", "mayfly ps:scale -a " + app.name() + " 3");
            }
            int serving = releaseService.scale(app.name(), body.asInt(), line -> {});
            json(
                    ctx,
                    200,
                    views.instances(app.name()).stream()
                            .filter(i -> "serving".equals(i.state()))
                            .toList());
            log.info("scaled {} to {} serving instance(s)", app.name(), serving);
        });
        r.get("/api/v1/apps/{app}/builds", ctx -> {
            Apps.App app = app(ctx, Access.Need.read);
            json(
                    ctx,
                    200,
                    builds.list(app.name(), 100).stream().map(AppViews::build).toList());
        });
        r.get("/api/v1/apps/{app}/instances", ctx -> {
            Apps.App app = app(ctx, Access.Need.read);
            json(ctx, 200, views.instances(app.name()));
        });
        r.get("/api/v1/apps/{app}/logs", ctx -> {
            Apps.App app = app(ctx, Access.Need.read);
            int lines = ctx.queryParam("lines") == null ? 100 : Integer.parseInt(ctx.queryParam("lines"));
            boolean follow = "true".equals(ctx.queryParam("follow"));
            ctx.contentType("text/plain; charset=utf-8");
            ctx.res().setHeader("Cache-Control", "no-cache");
            LogStream.write(
                    () -> logSources(app.name()),
                    lines,
                    follow,
                    Duration.ofHours(12),
                    ctx.res().getOutputStream());
        });
    }

    /**
     * The body of {@code PATCH /api/v1/apps/{app}/config}: a JSON object of var names to values, null to unset one.
     * The vars themselves are checked by {@link AppConfig#check} when they are set.
     */
    static Map<String, String> configChanges(String body) {
        JsonNode json = Json.readBody(body, JsonNode.class);
        if (!json.isObject()) {
            throw ApiError.badRequest(
                    "a config change is a JSON object of names to values, got "
                            + json.getNodeType().name().toLowerCase(),
                    "e.g. {\"GREETING\": \"hello\", \"OLD\": null} sets GREETING and unsets OLD");
        }
        Map<String, String> changes = new LinkedHashMap<>();
        for (var it = json.fields(); it.hasNext(); ) {
            var e = it.next();
            JsonNode v = e.getValue();
            if (!v.isNull() && !v.isValueNode()) {
                throw ApiError.badRequest(
                        "the value of config var "
                                + Json.write(
                                        e.getKey().length() > 64 ? e.getKey().substring(0, 64) + "..." : e.getKey())
                                + " is " + (v.isArray() ? "an array" : "an object")
                                + "; a value is a string, or null to unset the var",
                        null);
            }
            changes.put(e.getKey(), v.isNull() ? null : v.asText());
        }
        return changes;
    }

    private List<LogStream.Source> logSources(String app) {
        List<LogStream.Source> sources = new ArrayList<>();
        builds.list(app, 1)
                .forEach(b -> sources.add(new LogStream.Source("build#" + b.number(), logs.buildLog(app, b.number()))));
        sources.add(new LogStream.Source("mayfly", logs.events(app)));
        try {
            // What the instances printed, as their agents sent it.
            logs.consoleMirrors(app).forEach((instance, file) -> sources.add(new LogStream.Source(instance, file)));
        } catch (java.io.IOException e) {
            log.warn("cannot list the console logs of {}: {}", app, e.toString());
        }
        return sources;
    }

    private Apps.App app(Context ctx, Access.Need need) {
        String name = ctx.pathParam("app");
        need(ctx, need, name);
        return apps.find(name)
                .orElseThrow(() -> ApiError.notFound(
                        "no app named " + name, "see mayfly apps, or create it with mayfly apps:create " + name));
    }

    private void need(Context ctx, Access.Need need, String app) {
        access.require(ctx.attribute(Access.TOKEN), need, app);
    }

    private static void error(Context ctx, int status, String error, String hint) {
        json(ctx, status, new Views.ErrorView(status, error, hint));
    }
}
