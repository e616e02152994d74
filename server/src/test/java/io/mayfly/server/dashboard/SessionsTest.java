package io.mayfly.server.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SessionsTest {
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-01T00:00:00Z"));
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    };

    @Test
    void aSessionLivesWhileUsedAndEndsWhenIdleOrClosed() {
        Sessions sessions = new Sessions(clock);
        Sessions.Session s = sessions.open("secret");
        assertThat(s.id()).isNotEqualTo(s.csrf()).hasSizeGreaterThan(40);
        assertThat(sessions.find(s.id())).map(Sessions.Session::secret).contains("secret");

        now.set(now.get().plus(Sessions.IDLE).minusSeconds(1));
        assertThat(sessions.find(s.id()))
                .as("used just in time: the idle clock restarts")
                .isPresent();
        now.set(now.get().plus(Sessions.IDLE).plusSeconds(1));
        assertThat(sessions.find(s.id())).as("idle too long").isEmpty();

        Sessions.Session t = sessions.open("secret");
        sessions.close(t.id());
        assertThat(sessions.find(t.id())).isEmpty();
        assertThat(sessions.find(null)).isEmpty();
        assertThat(sessions.find("made-up")).isEmpty();
    }

    @Test
    void onlyTheSessionsOwnCsrfTokenMatches() {
        Sessions sessions = new Sessions(clock);
        Sessions.Session a = sessions.open("x");
        Sessions.Session b = sessions.open("x");
        assertThat(Sessions.csrfMatches(a, a.csrf())).isTrue();
        assertThat(Sessions.csrfMatches(a, b.csrf())).isFalse();
        assertThat(Sessions.csrfMatches(a, null)).isFalse();
        assertThat(Sessions.csrfMatches(a, "")).isFalse();
    }
}
