/** When a crashed instance is started again: the restart back-off, decided apart from the threads that follow it. */
package io.mayfly.agent.supervisor;
