/** The firecracker driver: a kernel as a Firecracker microVM described by a config file, the VMM process being the instance. */
package io.mayfly.agent.driver.firecracker;
