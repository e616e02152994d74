/** The artifact registry: builds, artifacts by sha256, provenance and signatures, as HTML pages and JSON; a public app's to anyone. */
package io.mayfly.server.registry;
