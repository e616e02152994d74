/** {@code git push} over smart HTTP (JGit's receive-pack): a push to main runs the pipeline and streams it back to the client. */
package io.mayfly.server.push;
