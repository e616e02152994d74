/** The REST API under /api/v1, the app views it answers with, and the git endpoint's authentication. */
package io.mayfly.server.web;
