package io.mayfly.server.http;

import io.mayfly.server.store.Apps;
import io.mayfly.server.store.Tokens;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;

/**
 * Who is asking, from the {@code Authorization} header (a bearer token, or the token as the HTTP basic
 * password, which is how git sends it), what that token may do, and who may read an app's registry.
 */
public final class Access {
    /** The request attribute holding the caller's token, once checked. */
    public static final String TOKEN = "mayfly.token";

    /** {@code agent}: what a remote agent does for itself (register, read its desired state, report), on its own name only. */
    public enum Need {
        read,
        upload,
        deploy,
        admin,
        agent
    }

    private final Tokens tokens;

    public Access(Tokens tokens) {
        this.tokens = tokens;
    }

    /** Returns the token or throws a 401 that says why it was refused. */
    public Tokens.Token authenticate(String authorization) {
        String secret = secretFrom(authorization).orElseThrow(Access::noToken);
        Tokens.Token token = tokens.use(secret)
                .orElseThrow(() -> new ApiError(
                        401,
                        "the token is not known to this server",
                        "check MAYFLY_TOKEN, or use the admin token from DATA/admin.token"));
        if (token.revokedAt() != null) {
            throw new ApiError(
                    401,
                    "the token " + token.id() + " was revoked at " + token.revokedAt()
                            + (token.revokedReason() == null ? "" : " (" + token.revokedReason() + ")"),
                    "ask an admin for a new token");
        }
        if (token.expiresAt() != null && token.expiresAt().isBefore(Instant.now())) {
            throw new ApiError(
                    401,
                    "the token " + token.id() + " expired at " + token.expiresAt(),
                    "ask an admin for a new token");
        }
        return token;
    }

    /** The 401 for a request that carries no token where it needs one. */
    public static ApiError noToken() {
        return new ApiError(
                401,
                "this request carries no token",
                "send Authorization: Bearer TOKEN (the admin token is in DATA/admin.token)");
    }

    /** Throws a 403 unless the token may do {@code need} on {@code app} (null app: a server-wide action). */
    public void require(Tokens.Token token, Need need, String app) {
        if (!allows(token, need, app)) {
            throw new ApiError(
                    403,
                    "token " + token.id() + " (" + token.scope() + (token.app() == null ? "" : " on " + token.app())
                            + ") may not " + need + (app == null ? "" : " on app " + app),
                    "use a token with that scope, or the admin token");
        }
    }

    /** Whether the token may do {@code need} on {@code app} (null app: a server-wide action): the one rule of scopes. */
    public boolean allows(Tokens.Token token, Need need, String app) {
        if ("admin".equals(token.scope())) return true;
        // An agent token names a host, not an app (in the same column): it may act as that agent and nothing else.
        boolean same = app != null && app.equals(token.app());
        if ("agent".equals(token.scope()) || need == Need.agent)
            return same && need == Need.agent && "agent".equals(token.scope());
        return same
                && switch (need) {
                    case read -> true;
                    case upload ->
                        token.scope().equals("upload") || token.scope().equals("deploy");
                    case deploy -> token.scope().equals("deploy");
                    case admin, agent -> false;
                };
    }

    /**
     * May this request read this app's registry (its builds, artifacts and their signatures, consoles, provenance)?
     * Anyone may read a public app's, with or without a token; a private app's needs a token that may read the app.
     * Public grants this read and nothing more: every other route asks {@link #require}.
     *
     * @param caller the request's checked token; empty when it carries none
     */
    public boolean mayReadRegistry(Optional<Tokens.Token> caller, Apps.App app) {
        return app.isPublic()
                || caller.map(token -> allows(token, Need.read, app.name())).orElse(false);
    }

    /**
     * The app named {@code name} (found as {@code app}) when the caller may read its registry, else the refusal, in an
     * order that tells nothing about a private app: 401 without a token whether or not the app exists, 403 for a
     * token that may not read it, 404 only to a token that could have read it.
     */
    public Apps.App readRegistry(Optional<Tokens.Token> caller, String name, Optional<Apps.App> app) {
        if (app.isPresent() && mayReadRegistry(caller, app.get())) return app.get();
        require(caller.orElseThrow(Access::noToken), Need.read, name);
        return app.orElseThrow(
                () -> ApiError.notFound("no app named " + name, "see all apps at /job (or mayfly apps)"));
    }

    static Optional<String> secretFrom(String authorization) {
        if (authorization == null) return Optional.empty();
        if (authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.of(authorization.substring(7).trim());
        }
        if (authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                String decoded = new String(
                        Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
                int colon = decoded.indexOf(':');
                return Optional.of(colon < 0 ? decoded : decoded.substring(colon + 1))
                        .filter(s -> !s.isEmpty());
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }
}
