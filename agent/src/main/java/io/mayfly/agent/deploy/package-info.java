/** Moving traffic to a release: boot the new instance, check it, switch the router, drain and stop the old one. */
package io.mayfly.agent.deploy;
