/**
 * The agent's decisions, as pure functions with no I/O and no threads, each unit-tested: what to do about an app's
 * assignment ({@link io.mayfly.agent.reconcile.Reconcile}), how long a crashing instance waits before its restart
 * ({@link io.mayfly.agent.reconcile.RestartPolicy}), which instances serve at each step of a rolling deploy
 * ({@link io.mayfly.agent.reconcile.Rollout}) and what a restarted agent does with each instance it finds
 * ({@link io.mayfly.agent.reconcile.Readoption}). The classes around them observe, then carry the decision out.
 */
package io.mayfly.agent.reconcile;
