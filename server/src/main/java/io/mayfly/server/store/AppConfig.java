package io.mayfly.server.store;

import io.mayfly.agent.secrets.ConfigCipher;
import org.jdbi.v3.core.Jdbi;

import java.util.Map;

/** Each app's current config vars; the table holds them only encrypted. */
public final class AppConfig {
    private final Jdbi db;
    private final ConfigCipher cipher;

    public AppConfig(Jdbi db, ConfigCipher cipher) {
        this.db = db;
        this.cipher = cipher;
    }

    public ConfigCipher cipher() { return cipher; }

    /** The current vars, sealed as a release stores them. */
    public String sealed(String app) {
        return db.withHandle(h -> h.select("SELECT config FROM app_config WHERE app = ?", app).mapTo(String.class).findOne())
                .orElseGet(() -> cipher.seal(Map.of()));
    }

    public Map<String, String> get(String app) {
        return cipher.open(sealed(app));
    }

    /** Replaces the app's vars with a sealed set (from {@link ConfigCipher#seal} or a release). */
    public void putSealed(String app, String sealed) {
        db.useTransaction(h -> {
            h.execute("DELETE FROM app_config WHERE app = ?", app);
            h.execute("INSERT INTO app_config(app, config, updated_at) VALUES (?, ?, ?)", app, sealed, System.currentTimeMillis());
        });
    }
}
