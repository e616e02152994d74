/**
 * Where a tenant's code runs on a host: one bubblewrap sandbox for builds, staged tests and {@code process} instances,
 * with an unprivileged user, no capabilities, a seccomp filter, control-group limits and a network of its own.
 */
package io.mayfly.sandbox;
