/** A host run by a Mayfly server: register, follow the desired state, converge to it health-gated, report. */
package io.mayfly.agent.remote;
