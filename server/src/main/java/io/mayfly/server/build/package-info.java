/** Builds: checking out a commit and running its build command in a bubblewrap sandbox, with its provenance recorded. */
package io.mayfly.server.build;
