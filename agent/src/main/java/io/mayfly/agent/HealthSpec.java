package io.mayfly.agent;

import java.time.Duration;

/**
 * How to tell that an instance is healthy: an HTTP GET of {@code path} answering {@code status}, tried every
 * {@code interval} (each try bounded by {@code tryTimeout}) until {@code timeout}. A null path means a TCP connect.
 */
public record HealthSpec(String path, int status, Duration interval, Duration tryTimeout, Duration timeout) {}
