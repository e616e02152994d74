/** The artifact registry: builds, artifacts by sha256, provenance and signatures, as HTML pages and JSON. */
package io.mayfly.server.registry;
