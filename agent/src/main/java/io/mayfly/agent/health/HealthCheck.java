package io.mayfly.agent.health;

import io.mayfly.agent.driver.ConsoleLines;
import io.mayfly.agent.driver.Guest;
import io.mayfly.wire.manifest.Manifest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
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
import java.util.regex.Pattern;

/**
 * Waits until a started instance's guest proves it serves: an HTTP GET that must return the expected status, a TCP
 * connection the guest itself accepted ({@link Guest#acceptsTcp}, never just a forwarder in front of it), or a line
 * the guest printed on its console after this start matching a regular expression (Mayfly's own lines never count).
 * Attempts overlap: a new one starts every interval even while earlier ones still wait (at most
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

    /** What one attempt does: null when it succeeded, else what it saw, for the person who deployed. */
    private interface Probe {
        String attempt(long deadlineNanos, Set<Socket> open) throws InterruptedException;
    }

    private final String target;
    private final Probe probe;
    private final Duration interval;
    private final Duration tryTimeout;
    /** Why this check cannot be made at all (it fails at once), or null. */
    private final String impossible;

    private HealthCheck(String target, Probe probe, Duration interval, Duration tryTimeout) {
        this(target, probe, interval, tryTimeout, null);
    }

    private HealthCheck(String target, Probe probe, Duration interval, Duration tryTimeout, String impossible) {
        if (interval.isNegative() || interval.isZero() || tryTimeout.isNegative() || tryTimeout.isZero()) {
            throw new IllegalArgumentException(
                    "health check interval and timeout must be positive, not " + interval + " and " + tryTimeout);
        }
        this.target = target;
        this.probe = probe;
        this.interval = interval;
        this.tryTimeout = tryTimeout;
        this.impossible = impossible;
    }

    /**
     * The check {@code [health]} describes, against {@code guest}: {@code console} reads {@code consoleLog} from
     * {@code consoleFrom} (where this start's output begins), {@code tcp} asks the guest, and otherwise an HTTP GET.
     * An HTTP or TCP check of a guest that no such check can reach ({@link Guest#unreachable()}) fails at once.
     */
    public static HealthCheck of(Manifest.Health health, Guest guest, Path consoleLog, long consoleFrom) {
        if (health.console() != null) {
            return console(
                    consoleLog, consoleFrom, Pattern.compile(health.console()), health.interval(), health.tryTimeout());
        }
        Optional<String> unreachable = guest.unreachable();
        if (unreachable.isPresent()) {
            return new HealthCheck(
                    "the guest",
                    (deadline, open) -> unreachable.get(),
                    health.interval(),
                    health.tryTimeout(),
                    unreachable.get());
        }
        if (health.tcp() || health.path() == null) return tcp(guest, health.interval(), health.tryTimeout());
        InetSocketAddress at = guest.http();
        return http(
                at.getAddress().getHostAddress(),
                at.getPort(),
                health.path(),
                health.status(),
                health.interval(),
                health.tryTimeout());
    }

    /** Healthy once {@code GET path} on host:port returns {@code expectedStatus}. */
    public static HealthCheck http(
            String host, int port, String path, int expectedStatus, Duration interval, Duration tryTimeout) {
        String p = path.startsWith("/") ? path : "/" + path;
        String target = "GET http://" + host + ":" + port + p;
        return new HealthCheck(
                target,
                (deadline, open) -> httpAttempt(host, port, p, expectedStatus, target, tryTimeout, deadline, open),
                interval,
                tryTimeout);
    }

    /** Healthy once a process listening on host:port itself (nothing in front of it) accepts a TCP connection. */
    public static HealthCheck tcp(String host, int port) {
        return tcp(Guest.onLoopback(port), Duration.ofMillis(100), Duration.ofSeconds(1));
    }

    /** Healthy once the guest itself accepts a TCP connection on its port. */
    public static HealthCheck tcp(Guest guest, Duration interval, Duration tryTimeout) {
        return new HealthCheck(
                "TCP to the guest",
                (deadline, open) -> guest.acceptsTcp(Duration.ofNanos(Math.max(1, deadline - System.nanoTime()))),
                interval,
                tryTimeout);
    }

    /** Healthy once a line the guest printed to {@code log} after byte {@code from} matches {@code pattern}. */
    public static HealthCheck console(Path log, long from, Pattern pattern, Duration interval, Duration tryTimeout) {
        ConsoleScan scan = new ConsoleScan(log, from, pattern);
        return new HealthCheck("console /" + pattern + "/", (deadline, open) -> scan.attempt(), interval, tryTimeout);
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
        if (impossible != null) return new Unhealthy(impossible, Duration.ZERO, 0);
        long start = System.nanoTime();
        long deadline = start + overall.toNanos();
        CompletableFuture<Void> healthy = new CompletableFuture<>();
        AtomicReference<String> lastFailure =
                new AtomicReference<>(target + ": no attempt finished within " + human(tryTimeout));
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger finished = new AtomicInteger();
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
                    // What happened first; what the checks saw only if one finished (a start that failed at once saw
                    // nothing).
                    String seen = finished.get() == 0
                            ? ""
                            : "; the last of " + finished.get() + (finished.get() == 1 ? " check" : " checks")
                                    + " saw: " + lastFailure.get();
                    return new Unhealthy(
                            exit + " after " + human(since(start)) + ", before it was healthy" + seen,
                            since(start),
                            attempts);
                }
                long now = System.nanoTime();
                if (now >= deadline) {
                    return new Unhealthy(
                            "not healthy within " + human(overall) + ": "
                                    + (finished.get() == 0
                                            ? "no check finished (each may take " + human(tryTimeout) + ")"
                                            : "the last of " + finished.get()
                                                    + (finished.get() == 1 ? " check" : " checks") + " saw: "
                                                    + lastFailure.get()),
                            since(start),
                            attempts);
                }
                if (inFlight.get() < MAX_IN_FLIGHT) {
                    attempts++;
                    inFlight.incrementAndGet();
                    long attemptDeadline = Math.min(deadline, System.nanoTime() + tryTimeout.toNanos());
                    Thread.ofVirtual().name("health").start(() -> {
                        try {
                            String failure;
                            try {
                                failure = probe.attempt(attemptDeadline, open);
                            } catch (InterruptedException e) {
                                failure = "interrupted";
                            }
                            finished.incrementAndGet();
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

    /** One HTTP probe; null on success, otherwise what went wrong. */
    private static String httpAttempt(
            String host,
            int port,
            String path,
            int expectedStatus,
            String target,
            Duration tryTimeout,
            long deadlineNanos,
            Set<Socket> open) {
        Socket socket = new Socket();
        open.add(socket);
        try {
            socket.connect(new InetSocketAddress(host, port), millisUntil(deadlineNanos));
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port
                            + "\r\nUser-Agent: mayfly-health\r\nAccept: */*\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
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
            return status == expectedStatus
                    ? null
                    : target + " returned " + status + " (expected " + expectedStatus + ")";
        } catch (ConnectException e) {
            return target + ": connection refused; the app must listen on " + host + ":" + port
                    + " (the PORT it is given)";
        } catch (SocketTimeoutException e) {
            return target + ": no answer within " + human(tryTimeout);
        } catch (IOException e) {
            return target + ": " + e.getMessage();
        } finally {
            open.remove(socket);
            closeQuietly(socket);
        }
    }

    /** How long the console regex may take on one line: it is the tenant's, and so are the lines. */
    static final long MATCH_BUDGET_NANOS = 50_000_000;
    /** The longest stretch of a line the console regex sees. */
    static final int MATCH_CHARS = 4096;

    /** A line as the regex sees it: at most {@link #MATCH_CHARS} of it, its reads counted and checked against a deadline. */
    private static final class Bounded implements CharSequence {
        static final class TooSlow extends RuntimeException {
            TooSlow() {
                super(null, null, false, false);
            }
        }

        private final String line;
        private final long deadline;
        private int reads;

        Bounded(String line, long deadline) {
            this.line = line;
            this.deadline = deadline;
        }

        public int length() {
            return Math.min(line.length(), MATCH_CHARS);
        }

        public char charAt(int index) {
            if ((++reads & 0x3ff) == 0 && System.nanoTime() > deadline) throw new TooSlow();
            return line.charAt(index);
        }

        public CharSequence subSequence(int start, int end) {
            return line.subSequence(start, end);
        }

        @Override
        public String toString() {
            return line.substring(0, length());
        }
    }

    /**
     * Reads what the guest printed since the start, a line at a time, remembering where it stopped: each attempt
     * reads only what is new. Lines Mayfly wrote into the console itself never count.
     */
    private static final class ConsoleScan {
        private final Path log;
        private final Pattern pattern;
        private long position;
        private final StringBuilder partial = new StringBuilder();
        private boolean matched;
        /** Set once the regex ran out of time on a line: what every later attempt says too. */
        private String tooSlow;

        ConsoleScan(Path log, long from, Pattern pattern) {
            this.log = log;
            this.position = from;
            this.pattern = pattern;
        }

        synchronized String attempt() {
            if (matched) return null;
            try (java.nio.channels.SeekableByteChannel ch = Files.newByteChannel(log)) {
                if (ch.size() > position) {
                    ch.position(position);
                    java.nio.ByteBuffer buf =
                            java.nio.ByteBuffer.allocate((int) Math.min(ch.size() - position, 1 << 20));
                    int n = ch.read(buf);
                    if (n > 0) {
                        position += n;
                        partial.append(new String(buf.array(), 0, n, StandardCharsets.UTF_8));
                    }
                }
            } catch (java.nio.file.NoSuchFileException e) {
                return "the console log " + log + " does not exist yet";
            } catch (IOException e) {
                return "the console log " + log + " cannot be read: " + e.getMessage();
            }
            int end;
            while ((end = partial.indexOf("\n")) >= 0) {
                String line = partial.substring(0, end);
                partial.delete(0, end + 1);
                if (ConsoleLines.isMayflys(line)) continue;
                try {
                    if (pattern.matcher(new Bounded(line, System.nanoTime() + MATCH_BUDGET_NANOS))
                            .find()) {
                        matched = true;
                        return null;
                    }
                } catch (Bounded.TooSlow e) {
                    tooSlow = "the console regex /" + pattern + "/ took more than " + MATCH_BUDGET_NANOS / 1_000_000
                            + " ms on one line; simplify it (nested repetition backtracks without end)";
                }
            }
            if (partial.length() > 65536) partial.setLength(0); // a line without an end: none to match
            return tooSlow != null ? tooSlow : "no line the guest printed matched /" + pattern + "/";
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
