/** Keeping secrets (config vars) encrypted wherever they rest on disk: AES-256-GCM with a key file of mode 0600. */
package io.mayfly.agent.secrets;
