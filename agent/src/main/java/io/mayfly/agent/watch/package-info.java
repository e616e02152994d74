/** Pull mode: an agent that watches a registry URL and deploys each new build itself, with read access only. */
package io.mayfly.agent.watch;
