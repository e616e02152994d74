/** The app manifest, {@code mayfly.toml}: its records, defaults, and errors that name file, line and key. */
package io.mayfly.wire.manifest;
