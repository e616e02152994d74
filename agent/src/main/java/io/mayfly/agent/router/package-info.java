/** HTTP reverse proxy: routes Host {@code APP.DOMAIN} to the app's backends and switches them atomically. */
package io.mayfly.agent.router;
