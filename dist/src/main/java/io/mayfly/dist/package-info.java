/** The one `mayfly` binary: the client commands plus `server`, wired together. */
package io.mayfly.dist;
