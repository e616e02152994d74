package io.mayfly.wire;

import io.mayfly.wire.manifest.Manifest;
import java.util.Optional;

/**
 * A manifest as releases store it and agents receive it: parsed and checked once, when the build or release is
 * stored, and read back without parsing its TOML again. The form carries its version ({@link #VERSION}), so that
 * what another Mayfly version wrote is never read half-filled with defaults: its reader parses the text instead.
 */
public final class StoredManifest {
    /** Raise it when a field of {@link Manifest}'s records changes. */
    public static final int VERSION = 1;

    record Form(int v, Manifest manifest) {}

    private StoredManifest() {}

    public static String write(Manifest manifest) {
        return Json.write(new Form(VERSION, manifest));
    }

    /** The manifest {@link #write} made; empty when there is none, or it was written in another version's form. */
    public static Optional<Manifest> read(String stored) {
        if (stored == null) return Optional.empty();
        try {
            Form form = Json.read(stored, Form.class);
            return form.v() == VERSION && whole(form.manifest()) ? Optional.of(form.manifest()) : Optional.empty();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether every part the parser always fills is there: a form cut short or written by hand reads as none, and
     * its reader parses the text (which checks every value) instead of failing later on a missing part.
     */
    private static boolean whole(Manifest m) {
        return m != null
                && m.build() != null
                && m.run() != null
                && m.health() != null
                && m.test() != null
                && m.run().driver() != null
                && m.run().args() != null
                && m.run().strategy() != null
                && m.build().hostPaths() != null
                && m.health().timeout() != null;
    }
}
