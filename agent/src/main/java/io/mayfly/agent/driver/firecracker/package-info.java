/**
 * The firecracker driver: a kernel, with its initramfs or its root filesystem image, as a Firecracker microVM
 * configured and booted through its API, the VMM process being the instance.
 */
package io.mayfly.agent.driver.firecracker;
