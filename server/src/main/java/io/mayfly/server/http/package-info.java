/** What every HTTP route of the server shares: token checks ({@link io.mayfly.server.http.Access}), errors, body limits, JSON and HTML answers. */
package io.mayfly.server.http;
