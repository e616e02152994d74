package io.mayfly.agent.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.agent.driver.Ports;
import io.mayfly.agent.driver.process.TestServer;
import java.io.File;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HealthCheckTest {
    private static final Duration INTERVAL = Duration.ofMillis(50);

    private final List<Process> servers = new ArrayList<>();
    private final int port = Ports.freeLoopbackPort();

    @AfterEach
    void stopServers() {
        servers.forEach(Process::destroyForcibly);
    }

    @Test
    void serverAnsweringTheExpectedStatusIsHealthy() throws Exception {
        Process server = server("--port", Integer.toString(port));

        HealthCheck.Result result = http(Duration.ofSeconds(2))
                .await(Duration.ofSeconds(10), server.onExit().thenApply(Process::exitValue));

        assertThat(result)
                .isInstanceOfSatisfying(
                        HealthCheck.Healthy.class, h -> assertThat(h.attempts()).isPositive());
    }

    @Test
    void wrongStatusIsUnhealthyAndTheReasonSaysWhichStatusCame() throws Exception {
        Process server = server("--port", Integer.toString(port), "--status", "500");

        awaitListening();
        HealthCheck.Result result = http(Duration.ofSeconds(2)).await(Duration.ofMillis(600), server::isAlive);

        assertThat(result)
                .isInstanceOfSatisfying(
                        HealthCheck.Unhealthy.class,
                        u -> assertThat(u.reason())
                                .startsWith("not healthy within 600ms: the last of ")
                                .containsPattern("the last of \\d+ checks saw: GET http://127.0.0.1:" + port
                                        + "/health returned 500 \\(expected 200\\)$"));
        assertThat(result.attempts()).isGreaterThan(1);
    }

    @Test
    void anHttpOrTcpCheckOfAGuestNoneCanReachFailsAtOnceAndAConsoleCheckIsStillMade() throws Exception {
        io.mayfly.agent.driver.Guest guest =
                io.mayfly.agent.driver.Guest.consoleOnly("no port reaches this guest: check its console");
        java.nio.file.Path log = java.nio.file.Files.writeString(
                java.nio.file.Files.createTempFile("console", ".log"), "up and serving\n");
        try {
            for (io.mayfly.wire.manifest.Manifest.Health h :
                    List.of(health("/", false, null), health(null, true, null))) {
                long began = System.nanoTime();
                HealthCheck.Result result = HealthCheck.of(h, guest, log, 0).await(Duration.ofSeconds(10), () -> true);

                assertThat(result)
                        .isInstanceOfSatisfying(
                                HealthCheck.Unhealthy.class,
                                u -> assertThat(u.reason()).isEqualTo("no port reaches this guest: check its console"));
                assertThat(result.attempts()).isZero();
                assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(Duration.ofSeconds(1));
            }
            assertThat(HealthCheck.of(health(null, false, "serving"), guest, log, 0)
                            .await(Duration.ofSeconds(2), () -> true))
                    .isInstanceOf(HealthCheck.Healthy.class);
        } finally {
            java.nio.file.Files.delete(log);
        }
    }

    private static io.mayfly.wire.manifest.Manifest.Health health(String path, boolean tcp, String console) {
        return new io.mayfly.wire.manifest.Manifest.Health(
                path, 200, tcp, console, Duration.ofSeconds(10), INTERVAL, Duration.ofSeconds(1), Duration.ZERO);
    }

    @Test
    void nothingListeningIsUnhealthyWithConnectionRefused() {
        HealthCheck.Result result = http(Duration.ofSeconds(2)).await(Duration.ofMillis(400), () -> true);

        assertThat(result)
                .isInstanceOfSatisfying(
                        HealthCheck.Unhealthy.class,
                        u -> assertThat(u.reason())
                                .contains(
                                        "GET http://127.0.0.1:" + port + "/health: connection refused",
                                        "must listen on 127.0.0.1:" + port));
    }

    @Test
    void instanceThatExitsEarlyEndsTheWaitWithItsExitCode() throws Exception {
        Process server = server("--exit-code", "3", "--exit-after-ms", "300");

        HealthCheck.Result result = http(Duration.ofSeconds(2))
                .await(Duration.ofSeconds(30), server.onExit().thenApply(Process::exitValue));

        assertThat(result)
                .isInstanceOfSatisfying(
                        HealthCheck.Unhealthy.class,
                        u -> assertThat(u.reason())
                                .startsWith("instance exited with code 3 after ")
                                .contains(
                                        ", before it was healthy; the last of ",
                                        "GET http://127.0.0.1:" + port + "/health: connection refused"));
    }

    @Test
    void instanceThatExitsEarlyIsSeenThroughStillAliveToo() throws Exception {
        Process server = server("--exit-code", "3", "--exit-after-ms", "100");

        HealthCheck.Result result = http(Duration.ofSeconds(2)).await(Duration.ofSeconds(30), server::isAlive);

        assertThat(result)
                .isInstanceOfSatisfying(
                        HealthCheck.Unhealthy.class,
                        u -> assertThat(u.reason())
                                .startsWith("instance exited after ")
                                .contains(", before it was healthy"));
    }

    @Test
    void serverThatNeverAnswersIsUnhealthyWithNoAnswer() throws Exception {
        Process server = server("--port", Integer.toString(port), "--stall", "1000");

        HealthCheck.Result result = http(Duration.ofMillis(200)).await(Duration.ofSeconds(1), server::isAlive);

        assertThat(result)
                .isInstanceOfSatisfying(
                        HealthCheck.Unhealthy.class,
                        u -> assertThat(u.reason()).contains("/health: no answer within 200ms"));
    }

    @Test
    void aHungFirstConnectionDoesNotHoldUpTheCheck() throws Exception {
        // Like QEMU's host-forward while the guest boots: the first connection is accepted and never answered.
        // Attempts do not wait for each other, so a later one gets through long before the first one's timeout.
        Process server = server("--port", Integer.toString(port), "--stall", "2");
        awaitListening(); // the server takes this connection as its first, so the check's first attempt is the second

        HealthCheck.Result result = http(Duration.ofSeconds(60)).await(Duration.ofSeconds(20), server::isAlive);

        assertThat(result)
                .isInstanceOfSatisfying(
                        HealthCheck.Healthy.class, h -> assertThat(h.attempts()).isGreaterThanOrEqualTo(2));
    }

    @Test
    void attemptsInFlightAreCapped() throws Exception {
        Process server = server("--port", Integer.toString(port), "--stall", "1000");
        awaitListening();

        HealthCheck.Result result = http(Duration.ofSeconds(60)).await(Duration.ofSeconds(1), server::isAlive);

        // Every attempt hangs for longer than the whole wait, so only the first few may ever start.
        assertThat(result.attempts()).isEqualTo(HealthCheck.MAX_IN_FLIGHT);
    }

    @Test
    void tcpCheckIsHealthyOnceSomethingListens() throws Exception {
        assertThat(HealthCheck.tcp("127.0.0.1", port).await(Duration.ofMillis(300), () -> true))
                .isInstanceOfSatisfying(
                        HealthCheck.Unhealthy.class,
                        u -> assertThat(u.reason())
                                .endsWith("saw: TCP connect to 127.0.0.1:" + port + ": connection refused"));

        Process server = server("--port", Integer.toString(port));

        assertThat(HealthCheck.tcp("127.0.0.1", port).await(Duration.ofSeconds(10), server::isAlive))
                .isInstanceOf(HealthCheck.Healthy.class);
    }

    @Test
    void aConsoleCheckCountsOnlyWhatTheGuestPrintedAfterThisStart() throws Exception {
        java.nio.file.Path log = java.nio.file.Files.createTempFile("console", ".log");
        java.nio.file.Files.writeString(log, "ready from the previous start\n");
        long from = java.nio.file.Files.size(log);
        java.nio.file.Files.writeString(
                log,
                "[mayfly] ready? Mayfly's own line\nmayfly: ready, also Mayfly's\nbooting\n",
                java.nio.file.StandardOpenOption.APPEND);
        java.util.regex.Pattern ready = java.util.regex.Pattern.compile("ready");
        HealthCheck check = HealthCheck.console(log, from, ready, INTERVAL, Duration.ofSeconds(1));

        assertThat(check.await(Duration.ofMillis(300), () -> true))
                .isInstanceOfSatisfying(
                        HealthCheck.Unhealthy.class,
                        u -> assertThat(u.reason()).endsWith("no line the guest printed matched /ready/"));

        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(200);
                java.nio.file.Files.writeString(
                        log, "server ready on :8080\n", java.nio.file.StandardOpenOption.APPEND);
            } catch (Exception ignored) {
                // the check then fails, and says so
            }
        });
        assertThat(HealthCheck.console(log, from, ready, INTERVAL, Duration.ofSeconds(1))
                        .await(Duration.ofSeconds(10), () -> true))
                .isInstanceOf(HealthCheck.Healthy.class);
        java.nio.file.Files.delete(log);
    }

    @Test
    void aConsoleRegexThatBacktracksWithoutEndIsCutShortAndSaysSo() throws Exception {
        java.nio.file.Path log = java.nio.file.Files.createTempFile("console", ".log");
        java.nio.file.Files.writeString(log, "a".repeat(30) + "!\n");
        HealthCheck check = HealthCheck.console(
                log, 0, java.util.regex.Pattern.compile("(.*a){12}$"), INTERVAL, Duration.ofSeconds(1));
        long began = System.nanoTime();
        assertThat(check.await(Duration.ofMillis(500), () -> true))
                .isInstanceOfSatisfying(
                        HealthCheck.Unhealthy.class,
                        u -> assertThat(u.reason()).contains("took more than 50 ms on one line"));
        assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(Duration.ofSeconds(5));
        java.nio.file.Files.delete(log);
    }

    @Test
    void durationsReadLikeADeployLog() {
        assertThat(HealthCheck.human(Duration.ofMillis(250))).isEqualTo("250ms");
        assertThat(HealthCheck.human(Duration.ofMillis(1500))).isEqualTo("1.5s");
        assertThat(HealthCheck.human(Duration.ofMillis(10_020))).isEqualTo("10s");
    }

    private HealthCheck http(Duration tryTimeout) {
        return HealthCheck.http("127.0.0.1", port, "/health", 200, INTERVAL, tryTimeout);
    }

    private Process server(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(TestServer.binary().toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(new File("/dev/null"))
                .start();
        servers.add(p);
        return p;
    }

    /** For tests where a refused first connection would spoil what they count. */
    private void awaitListening() throws InterruptedException {
        for (int i = 0; i < 500; i++) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(10);
            }
        }
        throw new AssertionError("the test server never listened on 127.0.0.1:" + port);
    }
}
