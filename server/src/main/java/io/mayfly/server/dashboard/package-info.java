/**
 * The web dashboard: server-rendered pages over the same records the API returns, behind a login with a token
 * (a session cookie, a CSRF token in every form), with htmx and server-sent events for the live parts.
 */
package io.mayfly.server.dashboard;
