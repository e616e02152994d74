/** Releases vN: turning a pushed commit into a build and a release, and rolling back to an older one. */
package io.mayfly.server.release;
