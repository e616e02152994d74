/** The qemu driver: unikernels and kernels as real VMs under QEMU (KVM when a guest really runs, else TCG). */
package io.mayfly.agent.driver.qemu;
