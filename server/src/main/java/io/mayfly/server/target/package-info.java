/**
 * The deploy-target seam: what the release service asks of whatever runs releases ({@link io.mayfly.server.target.DeployTarget}),
 * and what every target does alike (boot arguments). The agent pool ({@code io.mayfly.server.hosts}) is the target today.
 */
package io.mayfly.server.target;
