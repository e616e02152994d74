package io.mayfly.server.store;

import io.mayfly.wire.ConfigCipher;
import java.nio.file.Path;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/**
 * Checks at start that this server holds the same keys as every other server using the database. The first
 * server to start records its signing key's fingerprint and a probe sealed with its config key; a later server
 * with other keys would sign artifacts with a key that clients do not trust and could not read the config vars
 * the others sealed, so it refuses to start and says which files to copy.
 */
public final class SharedKeys {
    private static final String SIGNING = "signing-key";
    private static final String CONFIG = "config-key-probe";
    private static final Map<String, String> PROBE = Map.of("probe", "mayfly");

    private SharedKeys() {}

    public static void check(Jdbi db, String signingFingerprint, ConfigCipher cipher, Path data) {
        Map<String, String> recorded = db.inTransaction(h -> {
            h.execute(
                    "INSERT INTO shared_keys(name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                    SIGNING,
                    signingFingerprint);
            h.execute(
                    "INSERT INTO shared_keys(name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                    CONFIG,
                    cipher.seal(PROBE));
            return h.select("SELECT name, value FROM shared_keys")
                    .map((rs, ctx) -> Map.entry(rs.getString(1), rs.getString(2)))
                    .collectToMap(Map.Entry::getKey, Map.Entry::getValue);
        });
        String copy =
                "servers that share a database must share their keys: stop this server, copy signing-key, signing-key.pub "
                        + "and config.key from the data directory of the first server into " + data
                        + ", and start it again";
        if (!recorded.get(SIGNING).equals(signingFingerprint)) {
            throw new IllegalStateException("this database's artifacts are signed with the key " + recorded.get(SIGNING)
                    + ", but this server's key (" + data.resolve("signing-key.pub") + ") is " + signingFingerprint
                    + "; " + copy);
        }
        boolean sameConfigKey;
        try {
            sameConfigKey = PROBE.equals(cipher.open(recorded.get(CONFIG)));
        } catch (IllegalStateException e) {
            sameConfigKey = false;
        }
        if (!sameConfigKey) {
            throw new IllegalStateException(
                    "this database's config vars are sealed with another key than this server's "
                            + data.resolve("config.key") + "; " + copy);
        }
    }
}
