/** The process driver: runs a unikernel built as a static ELF (Solo5-spt, MirageOS-unix style) as a process in a bubblewrap sandbox. */
package io.mayfly.agent.driver.process;
