/** How an instance is started, stopped, inspected and re-adopted: one small interface, one package per driver. */
package io.mayfly.agent.driver;
