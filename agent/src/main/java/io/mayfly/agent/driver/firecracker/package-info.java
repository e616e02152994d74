/** The firecracker driver: a kernel as a Firecracker microVM configured and booted through its API, the VMM process being the instance. */
package io.mayfly.agent.driver.firecracker;
