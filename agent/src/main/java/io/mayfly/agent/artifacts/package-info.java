/** The agent's cache of downloaded artifacts: kept by sha256 once their bytes match it, used only with a valid signature. */
package io.mayfly.agent.artifacts;
