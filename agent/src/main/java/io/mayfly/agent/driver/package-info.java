/**
 * How an instance is started, stopped, inspected and re-adopted: one small interface, one package per driver, and
 * here what the VM drivers share (a VMM's process, a guest's tap and forwarded port, its private disk, the host's
 * checks).
 */
package io.mayfly.agent.driver;
