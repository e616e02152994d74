/** The xen driver: a kernel as a PVH domain created with xl, watched and stopped through xl. */
package io.mayfly.agent.driver.xen;
