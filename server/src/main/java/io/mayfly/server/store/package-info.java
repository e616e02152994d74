/** Durable state: the SQL database (apps, builds, artifacts, releases, tokens) and the content-addressed blob directory. */
package io.mayfly.server.store;
