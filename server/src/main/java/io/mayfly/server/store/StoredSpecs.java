package io.mayfly.server.store;

import io.mayfly.wire.StoredManifest;
import io.mayfly.wire.manifest.Manifest;
import io.mayfly.wire.manifest.ManifestException;
import java.util.List;
import org.jdbi.v3.core.Jdbi;

/**
 * The {@code spec} column of builds and releases: their manifest parsed and checked once, when stored
 * ({@link StoredManifest}), so that nothing parses the TOML again. Rows stored before, or in another version's
 * form, get theirs at the next start ({@link #fill}).
 */
final class StoredSpecs {
    private StoredSpecs() {}

    /** The manifest {@code text} means, or null when there is none or it does not parse (a build that failed for it). */
    static Manifest parsedOrNull(String text) {
        if (text == null) return null;
        try {
            return Manifest.parse("mayfly.toml", text);
        } catch (ManifestException e) {
            return null;
        }
    }

    static String column(Manifest spec) {
        return spec == null ? null : StoredManifest.write(spec);
    }

    /** Reads the column; null when it is empty or in another version's form. */
    static Manifest read(String column) {
        return StoredManifest.read(column).orElse(null);
    }

    private record Row(String app, int key, String manifest) {}

    /**
     * Parses the manifest of each row of {@code table} ({@code key} its number column) that has no spec in this
     * version's form and stores it. Returns how many rows got one.
     */
    static int fill(Jdbi db, String table, String key) {
        String current = "{\"v\":" + StoredManifest.VERSION + ",%";
        List<Row> missing = db.withHandle(h -> h.select(
                        "SELECT app, " + key + ", manifest FROM " + table
                                + " WHERE manifest IS NOT NULL AND (spec IS NULL OR spec NOT LIKE ?)",
                        current)
                .map((rs, ctx) -> new Row(rs.getString(1), rs.getInt(2), rs.getString(3)))
                .list());
        int filled = 0;
        for (Row row : missing) {
            Manifest spec = parsedOrNull(row.manifest());
            if (spec == null) continue;
            db.useHandle(h -> h.execute(
                    "UPDATE " + table + " SET spec = ? WHERE app = ? AND " + key + " = ?",
                    StoredManifest.write(spec),
                    row.app(),
                    row.key()));
            filled++;
        }
        return filled;
    }
}
