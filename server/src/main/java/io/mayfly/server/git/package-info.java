/** The apps' git repositories (one bare repository per app, JGit) and fetching a source from elsewhere; the push endpoint is {@code io.mayfly.server.push}. */
package io.mayfly.server.git;
