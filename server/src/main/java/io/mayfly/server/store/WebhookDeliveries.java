package io.mayfly.server.store;

import java.time.Clock;
import java.time.Duration;
import org.jdbi.v3.core.Jdbi;

/**
 * The webhook deliveries an app has taken, by the id their sender gives each one, so that a delivery sent again (a
 * forge's retry, a replay) is taken once. Kept for {@link #KEPT}, longer than any forge retries: older ones are
 * removed as new ones arrive, so the table stays small.
 */
public final class WebhookDeliveries {
    public static final Duration KEPT = Duration.ofDays(7);
    /** The longest delivery id kept; forges send UUIDs (36 characters). */
    public static final int MAX_ID = 128;

    private final Jdbi db;
    private final Clock clock;

    public WebhookDeliveries(Jdbi db) {
        this(db, Clock.systemUTC());
    }

    WebhookDeliveries(Jdbi db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    /** Records the delivery; false when the app took it already (within {@link #KEPT}). */
    public boolean first(String app, String sender, String delivery) {
        long now = clock.millis();
        return db.inTransaction(h -> {
            h.execute("DELETE FROM webhook_deliveries WHERE received_at < ?", now - KEPT.toMillis());
            return h.createUpdate(
                                    "INSERT INTO webhook_deliveries(app, sender, delivery, received_at) VALUES (?, ?, ?, ?) "
                                            + "ON CONFLICT (app, sender, delivery) DO NOTHING")
                            .bind(0, app)
                            .bind(1, sender)
                            .bind(2, delivery)
                            .bind(3, now)
                            .execute()
                    == 1;
        });
    }

    /** Forgets the delivery: it was not handled after all, and a redelivery of it should be. */
    public void forget(String app, String sender, String delivery) {
        db.useHandle(h -> h.execute(
                "DELETE FROM webhook_deliveries WHERE app = ? AND sender = ? AND delivery = ?", app, sender, delivery));
    }
}
