package io.mayfly.agent.health;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits until a started instance answers on its port: an HTTP GET that must return the expected status, or a TCP
 * connect. Attempts overlap: a new one starts every interval even while earlier ones still wait (at most
 * {@value #MAX_IN_FLIGHT} at once, each bounded by its own timeout), and the first success wins. This matters for
 * VMs behind QEMU's user networking, which accepts the TCP connection before the guest is up and only resends a
 * SYN the guest dropped while booting after about a second.
 */
public final class HealthCheck {
    static final int MAX_IN_FLIGHT = 4;
    /** The first quick retry after an attempt failed fast; it doubles up to the interval. */
    static final Duration FIRST_RETRY = Duration.ofMillis(2);
    /** The status line is all we read; a server that sends more before it is not an HTTP server. */
    private static final int MAX_STATUS_LINE = 8192;

    private final String host;
    private final int port;
    private final String path;
    private final int expectedStatus;
    private final Duration interval;
    private final Duration tryTimeout;

    private HealthCheck(String host, int port, String path, int expectedStatus, Duration interval, Duration tryTimeout) {
        if (interval.isNegative() || interval.isZero() || tryTimeout.isNegative() || tryTimeout.isZero()) {
            throw new IllegalArgumentException("health check interval and timeout must be positive, not " + interval + " and " + tryTimeout);
        }
        this.host = host;
        this.port = port;
        this.path = path;
        this.expectedStatus = expectedStatus;
        this.interval = interval;
        this.tryTimeout = tryTimeout;
    }

    /** Healthy once {@code GET path} on host:port returns {@code expectedStatus}. */
    public static HealthCheck http(String host, int port, String path, int expectedStatus, Duration interval, Duration tryTimeout) {
        return new HealthCheck(host, port, path.startsWith("/") ? path : "/" + path, expectedStatus, interval, tryTimeout);
    }

    /** Healthy once a TCP connection to host:port succeeds; a new attempt every 100 ms, each up to 1 s. */
    public static HealthCheck tcp(String host, int port) {
        return tcp(host, port, Duration.ofMillis(100), Duration.ofSeconds(1));
    }

    public static HealthCheck tcp(String host, int port, Duration interval, Duration tryTimeout) {
        return new HealthCheck(host, port, null, 0, interval, tryTimeout);
    }

    /** How a wait ended. */
    public sealed interface Result permits Healthy, Unhealthy {
        Duration took();
        int attempts();
    }

    public record Healthy(Duration took, int attempts) implements Result {}

    /** @param reason what the last attempt saw, written for the person who deployed */
    public record Unhealthy(String reason, Duration took, int attempts) implements Result {}

    /**
     * Probes until an attempt succeeds, {@code overall} passes, or {@code stillAlive} turns false. Prefer
     * {@link #await(Duration, CompletableFuture)} when the instance's exit is known as a future: the reason then
     * carries the exit code and an exit ends the wait at once.
     */
    public Result await(Duration overall, BooleanSupplier stillAlive) {
        return await(overall, () -> stillAlive.getAsBoolean() ? null : "instance exited", new CompletableFuture<>());
    }

    /** Probes until an attempt succeeds, {@code overall} passes, or the instance exits ({@code exited} completes). */
    public Result await(Duration overall, CompletableFuture<Integer> exited) {
        return await(overall, () -> exited.isDone() ? describeExit(exited) : null, exited);
    }

    private Result await(Duration overall, Supplier<String> exitReason, CompletableFuture<?> exitSignal) {
        long start = System.nanoTime();
        long deadline = start + overall.toNanos();
        CompletableFuture<Void> healthy = new CompletableFuture<>();
        AtomicReference<String> lastFailure = new AtomicReference<>("no attempt finished within " + human(tryTimeout));
        AtomicInteger inFlight = new AtomicInteger();
        Set<Socket> open = ConcurrentHashMap.newKeySet();
        // An attempt that fails fast (connection refused while the app starts) wakes the loop, which then retries
        // after a short back-off instead of a whole interval: a process that listens within milliseconds is seen so.
        AtomicReference<CompletableFuture<Void>> failedFast = new AtomicReference<>(new CompletableFuture<>());
        long backoff = FIRST_RETRY.toNanos();
        int attempts = 0;
        try {
            while (true) {
                if (healthy.isDone()) {
                    return new Healthy(since(start), attempts);
                }
                String exit = exitReason.get();
                if (exit != null) {
                    return new Unhealthy(exit + " before it became healthy (" + summary(lastFailure.get(), attempts, start) + ")",
                            since(start), attempts);
                }
                long now = System.nanoTime();
                if (now >= deadline) {
                    return new Unhealthy(summary(lastFailure.get(), attempts, start), since(start), attempts);
                }
                if (inFlight.get() < MAX_IN_FLIGHT) {
                    attempts++;
                    inFlight.incrementAndGet();
                    long attemptDeadline = Math.min(deadline, System.nanoTime() + tryTimeout.toNanos());
                    Thread.ofVirtual().name("health-" + host + ":" + port).start(() -> {
                        try {
                            String failure = attempt(attemptDeadline, open);
                            if (failure == null) {
                                healthy.complete(null);
                            } else {
                                lastFailure.set(failure);
                                failedFast.get().complete(null);
                            }
                        } finally {
                            inFlight.decrementAndGet();
                        }
                    });
                }
                long wait = Math.min(interval.toNanos(), deadline - System.nanoTime());
                try {
                    CompletableFuture<Void> failed = failedFast.get();
                    CompletableFuture.anyOf(healthy, exitSignal, failed).get(Math.max(wait, 0), TimeUnit.NANOSECONDS);
                    if (failed.isDone() && !healthy.isDone()) {
                        failedFast.set(new CompletableFuture<>());
                        TimeUnit.NANOSECONDS.sleep(Math.min(backoff, Math.max(deadline - System.nanoTime(), 0)));
                        backoff = Math.min(backoff * 2, interval.toNanos());
                    }
                } catch (TimeoutException | ExecutionException e) {
                    // Time for the next attempt; an exit is read through exitReason.
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return new Unhealthy("interrupted while waiting for the health check", since(start), attempts);
                }
            }
        } finally {
            // Attempts still waiting are no longer wanted; closing their sockets ends them now.
            open.forEach(HealthCheck::closeQuietly);
        }
    }

    /** One probe; null on success, otherwise what went wrong. */
    private String attempt(long deadlineNanos, Set<Socket> open) {
        String target = path == null ? "TCP connect to " + host + ":" + port : "GET http://" + host + ":" + port + path;
        Socket socket = new Socket();
        open.add(socket);
        try {
            socket.connect(new InetSocketAddress(host, port), millisUntil(deadlineNanos));
            if (path == null) {
                return null;
            }
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port
                    + "\r\nUser-Agent: mayfly-health\r\nAccept: */*\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String statusLine = readStatusLine(socket, deadlineNanos);
            if (statusLine == null) {
                return target + ": the connection was closed without an HTTP response";
            }
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/") || !parts[1].matches("\\d{3}")) {
                return target + ": not an HTTP response (\"" + abbreviate(statusLine) + "\")";
            }
            int status = Integer.parseInt(parts[1]);
            return status == expectedStatus ? null : target + " returned " + status + " (expected " + expectedStatus + ")";
        } catch (ConnectException e) {
            return target + ": connection refused; the app must listen on " + host + ":" + port + " (the PORT it is given)";
        } catch (SocketTimeoutException e) {
            return target + ": no answer within " + human(tryTimeout);
        } catch (IOException e) {
            return target + ": " + e.getMessage();
        } finally {
            open.remove(socket);
            closeQuietly(socket);
        }
    }

    private static String readStatusLine(Socket socket, long deadlineNanos) throws IOException {
        InputStream in = socket.getInputStream();
        StringBuilder line = new StringBuilder();
        while (line.length() < MAX_STATUS_LINE) {
            // Re-armed before each read so that a server trickling bytes cannot stretch the attempt's deadline.
            socket.setSoTimeout(millisUntil(deadlineNanos));
            int b = in.read();
            if (b == -1) {
                return line.isEmpty() ? null : line.toString();
            }
            if (b == '\n') {
                break;
            }
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    private static int millisUntil(long deadlineNanos) throws SocketTimeoutException {
        long millis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
        if (millis <= 0) {
            throw new SocketTimeoutException("attempt timed out");
        }
        return (int) Math.min(millis, Integer.MAX_VALUE);
    }

    private static String describeExit(CompletableFuture<Integer> exited) {
        try {
            int code = exited.getNow(-1);
            return code == -1 ? "instance exited" : "instance exited with code " + code;
        } catch (RuntimeException e) {
            return "instance exited";
        }
    }

    private static String summary(String lastFailure, int attempts, long start) {
        return lastFailure + " on " + attempts + (attempts == 1 ? " attempt" : " attempts") + " over " + human(since(start));
    }

    private static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    /** 10s, 1.5s, 250ms: what a person reads in a deploy log. */
    static String human(Duration d) {
        long millis = d.toMillis();
        if (millis < 1000) {
            return millis + "ms";
        }
        if (millis < 10_000 && millis % 1000 != 0) {
            return String.format(java.util.Locale.ROOT, "%.1fs", millis / 1000.0);
        }
        return Math.round(millis / 1000.0) + "s";
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Closing is how an unwanted attempt is ended; nothing to report.
        }
    }
}
