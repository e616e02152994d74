/** The client side of the {@code mayfly} command: finds the server, calls its REST API, prints what it answers. */
package io.mayfly.cli;
