package io.mayfly.server.store;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * API tokens: random, shown once, stored only as their sha256. A token for an app lives no longer than the app: it is
 * made only while the app exists, and revoked with it ({@link Apps#delete}).
 */
public final class Tokens {
    /** @param revokedReason why it was revoked, when not by hand (e.g. its app was destroyed) */
    public record Token(
            String id,
            String scope,
            String app,
            String description,
            Instant expiresAt,
            Instant revokedAt,
            String revokedReason) {}

    /** A token as created: the secret is returned this once and never stored. */
    public record Created(Token token, String secret) {}

    private static final SecureRandom RANDOM = new SecureRandom();
    private final Jdbi db;

    public Tokens(Jdbi db) {
        this.db = db;
    }

    /** The scopes whose {@code app} names an app (an agent token's names a host); as {@link #revokeAllOf} lists them. */
    private static final java.util.Set<String> APP_SCOPES = java.util.Set.of("read", "upload", "deploy");

    /**
     * Makes a token. One for an app is made only while the app exists (checked in the same transaction that a destroy
     * would wait for), so no token outlives its app by slipping in beside its destroy: throws IllegalArgumentException if
     * it does not.
     */
    public Created create(String scope, String app, String description, Instant expiresAt) {
        byte[] raw = new byte[24];
        RANDOM.nextBytes(raw);
        String secret = "mf_" + HexFormat.of().formatHex(raw);
        String id = HexFormat.of().formatHex(raw, 0, 4) + Long.toHexString(System.nanoTime() & 0xffff);
        boolean forApp = APP_SCOPES.contains(scope);
        db.useTransaction(h -> {
            if (forApp) {
                Database.lockApp(h, app);
                if (h.select("SELECT 1 FROM apps WHERE name = ?", app)
                        .mapTo(Integer.class)
                        .findOne()
                        .isEmpty()) {
                    throw new IllegalArgumentException(
                            "no app named " + app + " to make a " + scope + " token for; see mayfly apps");
                }
            }
            h.execute(
                    "INSERT INTO tokens(id, hash, scope, app, description, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    id,
                    hash(secret),
                    scope,
                    app,
                    description,
                    System.currentTimeMillis(),
                    expiresAt == null ? null : expiresAt.toEpochMilli());
        });
        return new Created(new Token(id, scope, app, description, expiresAt, null, null), secret);
    }

    /**
     * Revokes every token of {@code app} (read, upload, deploy; not an agent token of a host with the same name), within
     * the caller's transaction: the app's destroy. Returns how many were revoked.
     */
    static int revokeAllOf(Handle h, String app, String reason) {
        return h.createUpdate(
                        "UPDATE tokens SET revoked_at = ?, revoked_reason = ? WHERE app = ? AND scope IN ('read', 'upload', 'deploy') "
                                + "AND revoked_at IS NULL")
                .bind(0, System.currentTimeMillis())
                .bind(1, reason)
                .bind(2, app)
                .execute();
    }

    private static final long LAST_USED_RESOLUTION_MS = 60_000;
    private final java.util.Map<String, Long> lastRecorded = new java.util.concurrent.ConcurrentHashMap<>();

    /** Finds the token by its secret and records the use (to the minute). */
    public Optional<Token> use(String secret) {
        String hash = hash(secret);
        return db.withHandle(h -> {
            Optional<Token> token = h.select(
                            "SELECT id, scope, app, description, expires_at, revoked_at, revoked_reason "
                                    + "FROM tokens WHERE hash = ?",
                            hash)
                    .map((rs, ctx) -> new Token(
                            rs.getString(1),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getString(4),
                            instant(rs, 5),
                            instant(rs, 6),
                            rs.getString(7)))
                    .findOne();
            // Once a minute at most: agents call every second, and a write per request would cost each of them one.
            long now = System.currentTimeMillis();
            token.filter(t -> now - lastRecorded.getOrDefault(t.id(), 0L) >= LAST_USED_RESOLUTION_MS)
                    .ifPresent(t -> {
                        h.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", now, t.id());
                        lastRecorded.put(t.id(), now);
                    });
            return token;
        });
    }

    /** A token as listed: never its secret. */
    public record Listed(
            String id,
            String scope,
            String app,
            String description,
            Instant createdAt,
            Instant expiresAt,
            Instant revokedAt,
            String revokedReason,
            Instant lastUsedAt) {}

    public List<Listed> list() {
        return db.withHandle(h -> h.select(
                        "SELECT id, scope, app, description, created_at, expires_at, revoked_at, revoked_reason, "
                                + "last_used_at FROM tokens ORDER BY created_at")
                .map((rs, ctx) -> new Listed(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        instant(rs, 5),
                        instant(rs, 6),
                        instant(rs, 7),
                        rs.getString(8),
                        instant(rs, 9)))
                .list());
    }

    /** Returns false when there is no such token or it was revoked already. */
    public boolean revoke(String id) {
        return db.withHandle(h -> h.createUpdate("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                        .bind(0, System.currentTimeMillis())
                        .bind(1, id)
                        .execute())
                > 0;
    }

    private static Instant instant(java.sql.ResultSet rs, int column) throws java.sql.SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(v);
    }

    public boolean anyAdmin() {
        return db.withHandle(h -> h.select("SELECT 1 FROM tokens WHERE scope = 'admin' AND revoked_at IS NULL")
                .mapTo(Integer.class)
                .findFirst()
                .isPresent());
    }

    static String hash(String secret) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256")
                            .digest(secret.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
