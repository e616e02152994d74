/** Remote agents: registration, placement of apps on them, their desired state as events, and their reports. */
package io.mayfly.server.hosts;
