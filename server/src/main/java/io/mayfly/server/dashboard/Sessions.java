package io.mayfly.server.dashboard;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Dashboard logins. A session holds the token its user logged in with, in this server's memory only, so every
 * request is checked against the token as it is now (a revoked or expired token ends the session at once); the
 * browser holds only a random session id (an HttpOnly, SameSite=Strict cookie). Each session has its own CSRF token,
 * which every form carries and every POST must return. Sessions end after {@link #IDLE} without use, on logout,
 * and when the server restarts (log in again).
 */
public final class Sessions {
    public static final String COOKIE = "mayfly_session";
    static final Duration IDLE = Duration.ofHours(12);
    private static final SecureRandom RANDOM = new SecureRandom();

    public record Session(String id, String secret, String csrf, Instant lastUse) {}

    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final Clock clock;

    public Sessions() {
        this(Clock.systemUTC());
    }

    Sessions(Clock clock) {
        this.clock = clock;
    }

    /** A new session for a token secret that was just checked. */
    public Session open(String secret) {
        Session s = new Session(random(), secret, random(), clock.instant());
        sessions.put(s.id(), s);
        return s;
    }

    /** The live session with this id, its idle clock restarted; empty when unknown or idle too long. */
    public Optional<Session> find(String id) {
        if (id == null) return Optional.empty();
        Session s = sessions.get(id);
        if (s == null) return Optional.empty();
        Instant now = clock.instant();
        if (s.lastUse().plus(IDLE).isBefore(now)) {
            sessions.remove(id);
            return Optional.empty();
        }
        Session used = new Session(s.id(), s.secret(), s.csrf(), now);
        sessions.put(id, used);
        return Optional.of(used);
    }

    public void close(String id) {
        if (id != null) sessions.remove(id);
    }

    /** Whether a form's CSRF value is this session's (compared in constant time). */
    public static boolean csrfMatches(Session session, String given) {
        return given != null
                && MessageDigest.isEqual(
                        session.csrf().getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    private static String random() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
