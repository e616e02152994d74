/**
 * The solo5-hvt and solo5-spt drivers: a Solo5 unikernel under its tender, the tender being the instance's process,
 * with every device its manifest declares attached.
 */
package io.mayfly.agent.driver.solo5;
