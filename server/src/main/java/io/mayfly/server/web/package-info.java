/** The HTTP surface: the REST API under /api/v1, token checks, and the git endpoint's authentication. */
package io.mayfly.server.web;
