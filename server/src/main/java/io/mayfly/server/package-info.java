/** The control plane: wires the store, git, builds, releases, deployer and API together in one place. */
package io.mayfly.server;
