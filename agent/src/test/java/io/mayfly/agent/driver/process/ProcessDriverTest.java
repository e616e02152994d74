package io.mayfly.agent.driver.process;

import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.driver.Ports;
import io.mayfly.agent.health.HealthCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ProcessDriverTest {
    private static final long MEMORY = 64L << 20;

    @TempDir
    Path dir;

    private final List<InstanceHandle> started = new ArrayList<>();

    @AfterEach
    void stopEverything() {
        started.forEach(h -> h.stop(Duration.ZERO));
    }

    @Test
    void startedInstanceBecomesHealthyServesHttpAndLogsItsConsole() throws Exception {
        ProcessDriver driver = new ProcessDriver();
        assertThat(driver.availability().available()).isTrue();
        assertThat(driver.availability().detail()).contains("bubblewrap");
        InstanceSpec spec = spec("hello-v1-aaaa", MEMORY, "--port", "{port}");

        InstanceHandle handle = start(driver, spec);

        assertThat(healthCheck(spec).await(Duration.ofSeconds(10), handle.exited()))
                .isInstanceOf(HealthCheck.Healthy.class);
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + spec.port() + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("hello from testserver\n");
        awaitLog(spec, "GET / -> 200");
        assertThat(Files.readString(spec.logFile()))
                .contains("PORT=" + spec.port(), "FOO=bar", "HOME=unset", "a line on stderr", "listening on 127.0.0.1:" + spec.port());
        assertThat(ProcessHandle.of(handle.state().pid()).orElseThrow().info().command()).hasValueSatisfying(
                c -> assertThat(c).endsWith("bwrap"));
    }

    @Test
    void instanceRunsInItsOwnSessionSoTheAgentsSignalsDoNotReachIt() throws Exception {
        InstanceSpec spec = spec("hello-v1-sess", MEMORY, "--port", "{port}");
        InstanceHandle handle = start(new ProcessDriver(), spec);
        long pid = handle.state().pid();

        assertThat(sessionOf(pid)).isEqualTo(pid).isNotEqualTo(sessionOf(ProcessHandle.current().pid()));
    }

    @Test
    void sandboxShowsTheAppOnlyItsOwnArtifact() throws Exception {
        Path secret = Files.writeString(dir.resolve("secret.txt"), "host data");
        InstanceSpec spec = spec("hello-v1-fs", MEMORY, "--check", "/etc/hostname", "--check", secret.toString(),
                "--check", "/app/testserver", "--port", "{port}");
        start(new ProcessDriver(), spec);

        awaitLog(spec, "listening on");
        assertThat(Files.readString(spec.logFile()))
                .contains("hidden /etc/hostname", "hidden " + secret, "visible /app/testserver");
    }

    @Test
    void withoutBubblewrapTheInstanceRunsUnsandboxedAndTheLogSaysSo() throws Exception {
        ProcessDriver driver = new ProcessDriver(null, Path.of("/usr/bin/prlimit"), Path.of("/usr/bin/setsid"), Path.of("/sys/fs/cgroup"));
        assertThat(driver.availability()).isEqualTo(Driver.Availability.yes("bubblewrap not found: instances run unsandboxed"));
        Path secret = Files.writeString(dir.resolve("secret.txt"), "host data");
        InstanceSpec spec = spec("hello-v1-open", MEMORY, "--check", secret.toString(), "--port", "{port}");

        InstanceHandle handle = start(driver, spec);

        assertThat(healthCheck(spec).await(Duration.ofSeconds(10), handle.exited())).isInstanceOf(HealthCheck.Healthy.class);
        assertThat(Files.readString(spec.logFile()))
                .contains("[mayfly] warning: bubblewrap not found", "visible " + secret, "PORT=" + spec.port(), "HOME=unset");
        handle.stop(Duration.ofSeconds(5));
        assertThat(handle.exited().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(Files.readString(spec.logFile())).contains("got SIGTERM, exiting");
    }

    @Test
    void withoutPrlimitOrCgroupsTheLogWarnsThatMemoryIsUnlimited() throws Exception {
        ProcessDriver driver = new ProcessDriver(Path.of("/usr/bin/bwrap"), null, Path.of("/usr/bin/setsid"), dir.resolve("no-cgroup"));
        InstanceSpec spec = spec("hello-v1-nolimit", MEMORY, "--alloc", "128", "--port", "{port}");

        InstanceHandle handle = start(driver, spec);

        assertThat(healthCheck(spec).await(Duration.ofSeconds(10), handle.exited())).isInstanceOf(HealthCheck.Healthy.class);
        assertThat(Files.readString(spec.logFile()))
                .contains("[mayfly] warning: no memory limit", "allocated 128 MB");
    }

    @Test
    void withoutPrlimitTheInstanceJoinsItsCgroupBeforeItRuns_onAStandInCgroupTree() throws Exception {
        // This machine has no cgroup v2 memory controller, so a plain directory plays the cgroup tree: this checks
        // what the driver writes and that the instance's own pid joins the group, not that the kernel enforces it.
        Path cgroupRoot = Files.createDirectories(dir.resolve("cgroup"));
        Files.writeString(cgroupRoot.resolve("cgroup.controllers"), "cpu io memory pids\n");
        ProcessDriver driver = new ProcessDriver(Path.of("/usr/bin/bwrap"), null, Path.of("/usr/bin/setsid"), cgroupRoot);
        InstanceSpec spec = spec("hello-v1-cgroup", MEMORY, "--port", "{port}");

        InstanceHandle handle = start(driver, spec);

        assertThat(healthCheck(spec).await(Duration.ofSeconds(10), handle.exited())).isInstanceOf(HealthCheck.Healthy.class);
        Path cgroup = cgroupRoot.resolve("mayfly").resolve(spec.id());
        assertThat(Files.readString(cgroup.resolve("memory.max"))).isEqualTo(Long.toString(MEMORY));
        assertThat(Files.readString(cgroup.resolve("cgroup.procs")).trim()).isEqualTo(Long.toString(handle.state().pid()));
        assertThat(Files.readString(cgroupRoot.resolve("mayfly").resolve("cgroup.subtree_control"))).isEqualTo("+memory");
        assertThat(ProcessHandle.of(handle.state().pid()).orElseThrow().info().command()).hasValueSatisfying(
                c -> assertThat(c).endsWith("bwrap"));
    }

    @Test
    void memoryLimitStopsTheAppFromAllocatingMore() throws Exception {
        InstanceSpec spec = spec("hello-v1-mem", MEMORY, "--alloc", "16", "--alloc", "128", "--port", "{port}");
        InstanceHandle handle = start(new ProcessDriver(), spec);

        assertThat(healthCheck(spec).await(Duration.ofSeconds(10), handle.exited())).isInstanceOf(HealthCheck.Healthy.class);
        assertThat(Files.readString(spec.logFile())).contains("allocated 16 MB", "allocation of 128 MB failed");
        ProcessHandle app = ProcessHandle.of(handle.state().pid()).orElseThrow().descendants()
                .filter(p -> p.info().command().orElse("").endsWith("testserver")).findFirst().orElseThrow();
        assertThat(Files.readAllLines(Path.of("/proc", Long.toString(app.pid()), "limits")))
                .anySatisfy(line -> assertThat(line).startsWith("Max address space").contains(Long.toString(MEMORY)));
    }

    @Test
    void stopLetsTheAppExitOnSigterm() throws Exception {
        InstanceSpec spec = spec("hello-v1-term", MEMORY, "--port", "{port}");
        InstanceHandle handle = start(new ProcessDriver(), spec);
        awaitLog(spec, "listening on");
        List<ProcessHandle> tree = tree(handle);

        handle.stop(Duration.ofSeconds(10));

        assertThat(handle.isAlive()).isFalse();
        assertThat(handle.exited().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(Files.readString(spec.logFile())).contains("got SIGTERM, exiting");
        assertThat(tree).hasSizeGreaterThanOrEqualTo(3).noneMatch(ProcessDriverTest::running);
    }

    @Test
    void stopKillsAnAppThatIgnoresSigtermOnceTheGraceIsOver() throws Exception {
        InstanceSpec spec = spec("hello-v1-stubborn", MEMORY, "--ignore-term", "--port", "{port}");
        InstanceHandle handle = start(new ProcessDriver(), spec);
        awaitLog(spec, "listening on");
        List<ProcessHandle> tree = tree(handle);

        handle.stop(Duration.ofMillis(500));

        assertThat(handle.isAlive()).isFalse();
        assertThat(handle.exited()).isDone();
        assertThat(tree).noneMatch(ProcessDriverTest::running);
        assertThat(Files.readString(spec.logFile())).contains("ignoring SIGTERM").doesNotContain("got SIGTERM");
    }

    @Test
    void exitCodeOfTheAppIsTheInstancesExitCode() throws Exception {
        InstanceSpec spec = spec("hello-v1-exit", MEMORY, "--exit-code", "7", "--exit-after-ms", "50");
        InstanceHandle handle = start(new ProcessDriver(), spec);

        assertThat(handle.exited().get(10, TimeUnit.SECONDS)).isEqualTo(7);
        assertThat(handle.isAlive()).isFalse();
    }

    @Test
    void restartedAgentReadoptsTheRunningInstanceAndCanStopIt() throws Exception {
        InstanceSpec spec = spec("hello-v1-adopt", MEMORY, "--port", "{port}");
        InstanceHandle first = start(new ProcessDriver(), spec);
        awaitLog(spec, "listening on");

        // What a restarted agent has: only the state file.
        InstanceState persisted = InstanceStateFile.read(spec.stateDir().resolve("state.json"));
        Optional<InstanceHandle> adopted = new ProcessDriver().recover(persisted);

        assertThat(persisted).isEqualTo(first.state());
        assertThat(adopted).isPresent();
        InstanceHandle handle = adopted.get();
        assertThat(handle.state().pid()).isEqualTo(first.state().pid());
        assertThat(handle.isAlive()).isTrue();
        assertThat(HealthCheck.http("127.0.0.1", spec.port(), "/health", 200, Duration.ofMillis(50), Duration.ofSeconds(2))
                .await(Duration.ofSeconds(10), handle::isAlive)).isInstanceOf(HealthCheck.Healthy.class);
        List<ProcessHandle> tree = tree(handle);

        handle.stop(Duration.ofSeconds(10));

        assertThat(handle.isAlive()).isFalse();
        assertThat(handle.exited().get(5, TimeUnit.SECONDS)).isEqualTo(-1);
        assertThat(tree).noneMatch(ProcessDriverTest::running);
        assertThat(Files.readString(spec.logFile())).contains("got SIGTERM, exiting");
    }

    @Test
    void recoverFindsNothingWhenTheProcessIsGone() throws Exception {
        InstanceSpec spec = spec("hello-v1-gone", MEMORY, "--port", "{port}");
        InstanceHandle handle = start(new ProcessDriver(), spec);
        handle.stop(Duration.ofSeconds(5));

        assertThat(new ProcessDriver().recover(handle.state())).isEmpty();
    }

    @Test
    void recoverFindsNothingWhenThePidBelongsToAnotherProcess() throws Exception {
        InstanceSpec spec = spec("hello-v1-reuse", MEMORY, "--port", "{port}");
        InstanceHandle handle = start(new ProcessDriver(), spec);
        InstanceState s = handle.state();
        // Same pid, different start time: what a reused pid looks like.
        InstanceState reused = new InstanceState(s.id(), s.app(), s.release(), s.driver(), s.pid(), s.startTicks() - 1,
                s.port(), s.logFile(), s.stateDir(), s.startedAt());

        assertThat(new ProcessDriver().recover(reused)).isEmpty();
        assertThat(new ProcessDriver().recover(s)).isPresent();
        assertThat(handle.isAlive()).isTrue();
    }

    @Test
    void stateFileRoundTripsWithPlainPaths() throws Exception {
        InstanceState state = new InstanceState("hello-v2-abcd", "hello", 2, "process", 1234, 567890, 4100,
                dir.resolve("console.log"), dir, java.time.Instant.parse("2026-11-23T10:15:30.123Z"));
        Path file = InstanceStateFile.in(dir);

        InstanceStateFile.write(file, state);

        assertThat(InstanceStateFile.read(file)).isEqualTo(state);
        assertThat(Files.readString(file)).contains("\"startedAt\" : \"2026-11-23T10:15:30.123Z\"",
                "\"stateDir\" : \"" + dir + "\"", "\"logFile\" : \"" + dir.resolve("console.log") + "\"");
        assertThat(Files.list(dir)).extracting(p -> p.getFileName().toString()).containsExactly("state.json");
        // Paths written as file URIs (Json.MAPPER's default) still read back.
        Files.writeString(file, Files.readString(file).replace("\"" + dir + "\"", "\"" + dir.toUri() + "\""));
        assertThat(InstanceStateFile.read(file)).isEqualTo(state);
    }

    @Test
    void freeLoopbackPortCanBeBound() throws Exception {
        int port = Ports.freeLoopbackPort();
        try (var socket = new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertThat(socket.getLocalPort()).isEqualTo(port).isPositive();
        }
    }

    private InstanceHandle start(ProcessDriver driver, InstanceSpec spec) throws Exception {
        InstanceHandle handle = driver.start(spec);
        started.add(handle);
        return handle;
    }

    private InstanceSpec spec(String id, long memory, String... args) throws Exception {
        int port = Ports.freeLoopbackPort();
        Path stateDir = dir.resolve("instances").resolve(id);
        List<String> filled = java.util.Arrays.stream(args).map(a -> a.replace("{port}", Integer.toString(port))).toList();
        return new InstanceSpec(id, "hello", 1, TestServer.binary(), null, filled, Map.of("FOO", "bar", "PORT", Integer.toString(port)),
                memory, port, 0, stateDir.resolve("console.log"), stateDir, Duration.ofSeconds(5));
    }

    private static HealthCheck healthCheck(InstanceSpec spec) {
        return HealthCheck.http("127.0.0.1", spec.port(), "/health", 200, Duration.ofMillis(50), Duration.ofSeconds(2));
    }

    /** The instance's processes once the app runs: under bubblewrap the monitor, the sandbox's init and the app. */
    private static List<ProcessHandle> tree(InstanceHandle handle) {
        ProcessHandle root = ProcessHandle.of(handle.state().pid()).orElseThrow();
        List<ProcessHandle> all = new ArrayList<>(List.of(root));
        all.addAll(root.descendants().toList());
        return all;
    }

    /** Not ProcessHandle.isAlive: that counts a zombie, and the sandbox's init stays one until pid 1 reaps it. */
    private static boolean running(ProcessHandle p) {
        return ProcessStat.read(p.pid()).filter(s -> !s.exited()).isPresent();
    }

    private static long sessionOf(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[3]);
    }

    private static void awaitLog(InstanceSpec spec, String text) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < end) {
            if (Files.exists(spec.logFile()) && Files.readString(spec.logFile()).contains(text)) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the console log " + spec.logFile() + " never showed \"" + text + "\"; it has:\n"
                + (Files.exists(spec.logFile()) ? Files.readString(spec.logFile()) : "(no file)"));
    }
}
