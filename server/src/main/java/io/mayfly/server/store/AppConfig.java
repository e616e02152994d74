package io.mayfly.server.store;

import io.mayfly.wire.ConfigCipher;
import io.mayfly.wire.Json;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;

/** Each app's current config vars, and what a var may be; the table holds them only encrypted. */
public final class AppConfig {
    /** A var becomes an environment variable of the instance: its name must be one a shell can use. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    public static final int MAX_NAME = 128;
    public static final int MAX_VALUE_BYTES = 32 * 1024;
    public static final int MAX_VARS = 256;
    /**
     * Names and values together: they are the instance's environment, which Linux counts with the arguments against
     * one limit at exec (ARG_MAX, commonly 2 MiB), and they travel in every desired state an agent reads.
     */
    public static final int MAX_TOTAL_BYTES = 256 * 1024;

    /** A config change that cannot be made, with what to do instead; nothing was changed. */
    public static final class Invalid extends IllegalArgumentException {
        private final String hint;

        Invalid(String message, String hint) {
            super(message);
            this.hint = hint;
        }

        public String hint() {
            return hint;
        }
    }

    /**
     * Checks a change (a value sets a var, null unsets it) against the app's {@code current} vars: every name an
     * environment variable name, no value with a NUL (which an environment variable cannot hold), no value over
     * {@link #MAX_VALUE_BYTES}, and afterwards at most {@link #MAX_VARS} vars of {@link #MAX_TOTAL_BYTES} in all.
     */
    public static void check(Map<String, String> current, Map<String, String> changes) {
        for (var e : changes.entrySet()) {
            String name = e.getKey();
            if (name == null || name.length() > MAX_NAME || !NAME.matcher(name).matches()) {
                throw new Invalid(
                        shown(name) + " is not a valid config var name",
                        "use letters, digits and underscores, not starting with a digit," + " at most " + MAX_NAME
                                + " characters, e.g. GREETING or DATABASE_URL");
            }
            String value = e.getValue();
            if (value == null) continue;
            if (value.indexOf('\0') >= 0) {
                throw new Invalid(
                        "the value of " + name
                                + " contains a NUL character (\\u0000), which an environment variable cannot hold",
                        "remove it; to pass binary data, encode it, e.g. as base64");
            }
            int bytes = value.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > MAX_VALUE_BYTES) {
                throw new Invalid(
                        "the value of " + name + " is " + bytes + " bytes; a config value may be at most "
                                + MAX_VALUE_BYTES + " bytes (32 KiB)",
                        "keep large data in a file or a store the app reads, and put its location in the var");
            }
        }
        Map<String, String> after = new TreeMap<>(current);
        changes.forEach((k, v) -> {
            if (v == null) after.remove(k);
            else after.put(k, v);
        });
        if (after.size() > MAX_VARS && after.size() > current.size()) {
            throw new Invalid(
                    "this change would leave " + after.size() + " config vars; an app may have at most " + MAX_VARS,
                    "unset the vars the app no longer uses (mayfly config:unset NAME)");
        }
        long total = totalBytes(after);
        if (total > MAX_TOTAL_BYTES && total > totalBytes(current)) {
            throw new Invalid(
                    "this change would make the config vars " + total
                            + " bytes in all (names and values); an app's may be at most " + MAX_TOTAL_BYTES
                            + " bytes (256 KiB)",
                    "keep large data in a file or a store the app reads, and put its location in a var");
        }
    }

    private static long totalBytes(Map<String, String> vars) {
        long total = 0;
        for (var e : vars.entrySet())
            total += e.getKey().length() + e.getValue().getBytes(StandardCharsets.UTF_8).length;
        return total;
    }

    /** A name as a message may show it: quoted and escaped as JSON (no raw newline reaches a terminal), and cut. */
    private static String shown(String name) {
        if (name == null) return "null";
        return Json.write(name.length() > 64 ? name.substring(0, 64) + "..." : name);
    }

    private final Jdbi db;
    private final ConfigCipher cipher;

    public AppConfig(Jdbi db, ConfigCipher cipher) {
        this.db = db;
        this.cipher = cipher;
    }

    public ConfigCipher cipher() {
        return cipher;
    }

    /** The current vars, sealed as a release stores them. */
    public String sealed(String app) {
        return db.withHandle(h -> h.select("SELECT config FROM app_config WHERE app = ?", app)
                        .mapTo(String.class)
                        .findOne())
                .orElseGet(() -> cipher.seal(Map.of()));
    }

    public Map<String, String> get(String app) {
        return cipher.open(sealed(app));
    }

    /** Replaces the app's vars with a sealed set (from {@link ConfigCipher#seal} or a release). */
    public void putSealed(String app, String sealed) {
        db.useTransaction(h -> {
            h.execute("DELETE FROM app_config WHERE app = ?", app);
            h.execute(
                    "INSERT INTO app_config(app, config, updated_at) VALUES (?, ?, ?)",
                    app,
                    sealed,
                    System.currentTimeMillis());
        });
    }
}
