package io.mayfly.agent.reconcile;

import java.time.Duration;

/**
 * When a crashed instance is started again, in the spirit of Heroku's crash restarts: the first crash is restarted
 * at once, each further crash in a row waits twice as long as the one before (1 s, 2 s, 4 s, ...) up to {@code cap};
 * an instance that ran for {@code resetAfter} before it crashed starts the count again.
 */
public record RestartPolicy(Duration base, Duration cap, Duration resetAfter) {
    public static final RestartPolicy DEFAULT =
            new RestartPolicy(Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofMinutes(10));

    /**
     * The crash streak a crash continues, given how long the crashed instance ran and the streak that led to it: a run
     * of {@code resetAfter} or longer was stable, so its crash starts a new streak (restarted at once).
     */
    public int streakAfter(Duration lived, int crashStreak) {
        return lived.compareTo(resetAfter) >= 0 ? 0 : crashStreak;
    }

    /** The wait before restart number {@code streak + 1} of a crash streak (streak 0: the first crash). */
    public Duration delay(int streak) {
        if (streak <= 0) return Duration.ZERO;
        long millis = base.toMillis() << Math.min(streak - 1, 30);
        return millis >= cap.toMillis() || millis <= 0 ? cap : Duration.ofMillis(millis);
    }
}
