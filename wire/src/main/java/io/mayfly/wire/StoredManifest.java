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
            return form.v() == VERSION && form.manifest() != null ? Optional.of(form.manifest()) : Optional.empty();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
