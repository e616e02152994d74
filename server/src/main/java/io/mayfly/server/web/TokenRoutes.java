package io.mayfly.server.web;

import static io.mayfly.server.http.Answers.json;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.JavalinConfig;
import io.mayfly.server.http.Access;
import io.mayfly.server.http.ApiError;
import io.mayfly.server.release.Actor;
import io.mayfly.server.store.Apps;
import io.mayfly.server.store.Audit;
import io.mayfly.server.store.Tokens;
import io.mayfly.wire.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /api/v1/tokens} (admin only): make a token (shown once), list tokens (never their secrets), revoke one.
 * "User X may only upload to app Y" is a token with scope upload on Y; {@code expires} bounds its life.
 */
public final class TokenRoutes {
    private static final java.util.regex.Pattern AGENT_NAME =
            java.util.regex.Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Set<String> SCOPES = Set.of("admin", "read", "upload", "deploy", "agent");
    private static final Pattern DURATION = Pattern.compile("(\\d+)(m|h|d)");
    private static final long MAX_EXPIRY_DAYS = 3650;

    private final Access access;
    private final Tokens tokens;
    private final Apps apps;
    private final Audit audit;

    public TokenRoutes(Access access, Tokens tokens, Apps apps, Audit audit) {
        this.access = access;
        this.tokens = tokens;
        this.apps = apps;
        this.audit = audit;
    }

    /** What creating a token answers: the secret appears here and nowhere else, ever. */
    public record CreatedView(
            String id, String secret, String scope, String app, Instant expiresAt, String description) {}

    public void register(JavalinConfig config) {
        var r = config.routes;
        r.post("/api/v1/tokens", ctx -> {
            access.require(ctx.attribute(Access.TOKEN), Access.Need.admin, null);
            JsonNode body = Json.readBody(ctx.body().isBlank() ? "{}" : ctx.body(), JsonNode.class);
            String scope = body.path("scope").asText("");
            if (!SCOPES.contains(scope)) {
                throw ApiError.badRequest(
                        "a token's scope is one of admin, read, upload, deploy, agent; got '" + scope + "'",
                        "mayfly tokens:create --app APP --scope read|upload|deploy, --agent HOST, or --admin");
            }
            String app = body.hasNonNull("app") ? body.path("app").asText() : null;
            if (scope.equals("admin") && app != null)
                throw ApiError.badRequest("an admin token is for every app; leave out the app", null);
            if (scope.equals("agent")) {
                app = body.hasNonNull("agent") ? body.path("agent").asText() : null;
                if (app == null || !AGENT_NAME.matcher(app).matches()) {
                    throw ApiError.badRequest(
                            "an agent token is for one host; name it with agent (a DNS label)",
                            "mayfly tokens:create --agent HOST");
                }
            } else if (!scope.equals("admin")) {
                if (app == null)
                    throw ApiError.badRequest("a " + scope + " token is for one app; say which with app", null);
                String named = app;
                apps.find(named).orElseThrow(() -> ApiError.notFound("no app named " + named, "see mayfly apps"));
            }
            Instant expires = body.hasNonNull("expires")
                    ? Instant.now().plus(duration(body.path("expires").asText()))
                    : null;
            Tokens.Created created =
                    tokens.create(scope, app, body.path("description").asText(null), expires);
            audit.record(
                    app == null ? "*" : app,
                    Actor.current(),
                    "token",
                    "created " + created.token().id() + " (" + scope + (expires == null ? "" : ", expires " + expires)
                            + ")");
            json(
                    ctx,
                    201,
                    new CreatedView(
                            created.token().id(),
                            created.secret(),
                            scope,
                            app,
                            expires,
                            created.token().description()));
        });
        r.get("/api/v1/tokens", ctx -> {
            access.require(ctx.attribute(Access.TOKEN), Access.Need.admin, null);
            json(ctx, 200, tokens.list());
        });
        r.delete("/api/v1/tokens/{id}", ctx -> {
            access.require(ctx.attribute(Access.TOKEN), Access.Need.admin, null);
            String id = ctx.pathParam("id");
            if (!tokens.revoke(id))
                throw ApiError.notFound("no token " + id + " that is not revoked already", "see mayfly tokens");
            audit.record("*", Actor.current(), "token", "revoked " + id);
            ctx.status(204);
        });
    }

    static Duration duration(String text) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches())
            throw ApiError.badRequest(
                    "expires takes a duration like 30m, 1h or 7d; got " + Json.write(cut(text)), null);
        // At most ten years: longer is no expiry, and a number that size cannot overflow a long or an Instant.
        long n = m.group(1).length() > 7 ? Long.MAX_VALUE : Long.parseLong(m.group(1));
        long days = switch (m.group(2)) {
            case "m" -> n / (24 * 60);
            case "h" -> n / 24;
            default -> n;
        };
        if (n == 0 || days > MAX_EXPIRY_DAYS) {
            throw ApiError.badRequest(
                    "expires takes a duration from 1m to " + MAX_EXPIRY_DAYS + "d; got " + Json.write(cut(text)),
                    "leave expires out for a token that does not expire");
        }
        return switch (m.group(2)) {
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    private static String cut(String s) {
        return s.length() > 64 ? s.substring(0, 64) + "..." : s;
    }
}
