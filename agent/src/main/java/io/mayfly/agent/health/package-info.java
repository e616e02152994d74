/** Decides when a started instance is ready for traffic: overlapping HTTP or TCP probes on its port. */
package io.mayfly.agent.health;
