/** The wire contract: the JSON records that the server, the agent and the CLI exchange, and the app manifest. */
package io.mayfly.wire;
