/** Git over smart HTTP (JGit): one bare repository per app; a push to main runs the pipeline and streams it back. */
package io.mayfly.server.git;
