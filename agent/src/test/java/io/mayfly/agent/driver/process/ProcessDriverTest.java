package io.mayfly.agent.driver.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.driver.Ports;
import io.mayfly.agent.driver.ProcessStat;
import io.mayfly.agent.health.HealthCheck;
import io.mayfly.sandbox.Pasta;
import io.mayfly.sandbox.Sandbox;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessDriverTest {
    private static final long MEMORY = 64L << 20;

    @TempDir
    Path dir;

    private final List<InstanceHandle> started = new ArrayList<>();

    private ProcessDriver driver() throws IOException {
        return new ProcessDriver(dir.resolve("sandbox"));
    }

    private Sandbox sandbox(boolean bwrap, boolean prlimit, Path cgroupRoot) throws IOException {
        boolean root = Sandbox.isRoot();
        return new Sandbox(
                bwrap ? Path.of("/usr/bin/bwrap") : null,
                prlimit ? Path.of("/usr/bin/prlimit") : null,
                Path.of("/usr/bin/setpriv"),
                Pasta.onThisHost(root),
                cgroupRoot,
                dir.resolve("sandbox"),
                root);
    }

    @AfterEach
    void stopEverything() {
        started.forEach(h -> h.stop(Duration.ZERO));
    }

    @Test
    void startedInstanceBecomesHealthyServesHttpAndLogsItsConsole() throws Exception {
        ProcessDriver driver = driver();
        assertThat(driver.availability().available()).isTrue();
        assertThat(driver.availability().detail()).contains("bubblewrap", "seccomp", "own network (pasta)");
        InstanceSpec spec = spec("hello-v1-aaaa", MEMORY, "--port", "{port}");

        InstanceHandle handle = start(driver, spec);

        assertThat(healthCheck(spec).await(Duration.ofSeconds(10), handle.exited()))
                .isInstanceOf(HealthCheck.Healthy.class);
        HttpResponse<String> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + spec.port() + "/"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("hello from testserver\n");
        awaitLog(spec, "GET / -> 200");
        assertThat(Files.readString(spec.logFile()))
                .contains(
                        "PORT=" + spec.port(),
                        "FOO=bar",
                        "HOME=unset",
                        "a line on stderr",
                        "listening on 127.0.0.1:" + spec.port());
        assertThat(ProcessHandle.of(handle.state().pid()).orElseThrow().info().command())
                .hasValueSatisfying(c -> assertThat(c).endsWith("bwrap"));
    }

    @Test
    void instanceRunsInItsOwnSessionSoTheAgentsSignalsDoNotReachIt() throws Exception {
        InstanceSpec spec = spec("hello-v1-sess", MEMORY, "--port", "{port}");
        InstanceHandle handle = start(driver(), spec);
        long pid = handle.state().pid();

        assertThat(sessionOf(pid))
                .isEqualTo(pid)
                .isNotEqualTo(sessionOf(ProcessHandle.current().pid()));
    }

    @Test
    void sandboxShowsTheAppOnlyItsOwnArtifact() throws Exception {
        Path secret = Files.writeString(dir.resolve("secret.txt"), "host data");
        InstanceSpec spec = spec(
                "hello-v1-fs",
                MEMORY,
                "--check",
                "/etc/hostname",
                "--check",
                secret.toString(),
                "--check",
                "/app/testserver",
                "--port",
                "{port}");
        start(driver(), spec);

        awaitLog(spec, "listening on");
        assertThat(Files.readString(spec.logFile()))
                .contains("hidden /etc/hostname", "hidden " + secret, "visible /app/testserver");
    }

    @Test
    void withoutBubblewrapTheInstanceRunsUnsandboxedAndTheLogSaysSo() throws Exception {
        ProcessDriver driver = new ProcessDriver(sandbox(false, true, Path.of("/sys/fs/cgroup")));
        assertThat(driver.availability())
                .isEqualTo(Driver.Availability.yes("bubblewrap not found: instances run unsandboxed"));
        Path secret = Files.writeString(dir.resolve("secret.txt"), "host data");
        InstanceSpec spec = spec(
                "hello-v1-open", MEMORY, "--check", secret.toString(), "--check", "/etc/hostname", "--port", "{port}");

        InstanceHandle handle = start(driver, spec);

        assertThat(healthCheck(spec).await(Duration.ofSeconds(10), handle.exited()))
                .isInstanceOf(HealthCheck.Healthy.class);
        assertThat(Files.readString(spec.logFile()))
                .contains(
                        "[mayfly] warning: bubblewrap not found",
                        "visible " + secret,
                        "PORT=" + spec.port(),
                        "HOME=unset");
        handle.stop(Duration.ofSeconds(5));
        assertThat(handle.exited().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(Files.readString(spec.logFile())).contains("got SIGTERM, exiting");
    }

    @Test
    void withoutPrlimitOrCgroupsTheLogWarnsThatMemoryIsUnlimited() throws Exception {
        ProcessDriver driver = new ProcessDriver(sandbox(true, false, dir.resolve("no-cgroup")));
        InstanceSpec spec = spec("hello-v1-nolimit", MEMORY, "--alloc", "128", "--port", "{port}");

        InstanceHandle handle = start(driver, spec);

        assertThat(healthCheck(spec).await(Duration.ofSeconds(10), handle.exited()))
                .isInstanceOf(HealthCheck.Healthy.class);
        assertThat(Files.readString(spec.logFile()))
                .contains("[mayfly] warning: prlimit not found (util-linux): no --as=" + MEMORY, "allocated 128 MB");
    }

    @Test
    void withoutPrlimitTheInstanceJoinsItsCgroupBeforeItRuns_onAStandInCgroupTree() throws Exception {
        // This machine has no cgroup v2 memory controller, so a plain directory plays the cgroup tree: this checks
        // what the driver writes and that the instance's own pid joins the group, not that the kernel enforces it.
        Path cgroupRoot = Files.createDirectories(dir.resolve("cgroup"));
        Files.writeString(cgroupRoot.resolve("cgroup.controllers"), "cpu io memory pids\n");
        ProcessDriver driver = new ProcessDriver(sandbox(true, false, cgroupRoot));
        InstanceSpec spec = spec("hello-v1-cgroup", MEMORY, "--port", "{port}");

        InstanceHandle handle = start(driver, spec);

        assertThat(healthCheck(spec).await(Duration.ofSeconds(10), handle.exited()))
                .isInstanceOf(HealthCheck.Healthy.class);
        Path cgroup = cgroupRoot.resolve("mayfly").resolve(spec.id());
        assertThat(Files.readString(cgroup.resolve("memory.max"))).isEqualTo(Long.toString(MEMORY));
        assertThat(Files.readString(cgroup.resolve("cgroup.procs")).trim())
                .isEqualTo(Long.toString(handle.state().pid()));
        assertThat(Files.readString(cgroupRoot.resolve("mayfly").resolve("cgroup.subtree_control")))
                .isEqualTo("+memory +pids");
        assertThat(Files.readString(cgroup.resolve("pids.max"))).isEqualTo("64");
        assertThat(ProcessHandle.of(handle.state().pid()).orElseThrow().info().command())
                .hasValueSatisfying(c -> assertThat(c).endsWith("bwrap"));
    }

    @Test
    void memoryBeyondTheLimitStopsTheInstanceAndItsConsoleSaysWhy() throws Exception {
        InstanceSpec spec = spec("hello-v1-mem", MEMORY, "--alloc", "16", "--alloc", "128", "--port", "{port}");
        InstanceHandle handle = start(driver(), spec);

        assertThat(handle.exited().get(20, TimeUnit.SECONDS)).isNotZero();
        assertThat(Files.readString(spec.logFile()))
                .contains("allocated 16 MB", "[mayfly] the instance stopped: it ran out of memory (limit 64 MiB)");
    }

    @Test
    void anInstanceCannotReachTheHostsLoopbackNorAnotherInstanceAndRunsUnprivileged() throws Exception {
        InstanceSpec other = spec("other-v1-aaaa", MEMORY, "--port", "{port}");
        start(driver(), other);
        awaitLog(other, "listening on");
        try (java.net.ServerSocket api = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
            InstanceSpec spec = spec(
                    "hello-v1-probe",
                    MEMORY,
                    "--connect",
                    Integer.toString(other.port()),
                    "--connect",
                    Integer.toString(api.getLocalPort()),
                    "--whoami",
                    "--unshare",
                    "--port",
                    "{port}");
            InstanceHandle handle = start(driver(), spec);
            assertThat(healthCheck(spec).await(Duration.ofSeconds(10), handle.exited()))
                    .isInstanceOf(HealthCheck.Healthy.class);
            assertThat(Files.readString(spec.logFile()))
                    .contains(
                            "connect " + other.port() + " failed",
                            "connect " + api.getLocalPort() + " failed",
                            "uid " + Sandbox.NOBODY,
                            "CapEff:\t0000000000000000",
                            "NoNewPrivs:\t1",
                            "Seccomp:\t2",
                            "unshare failed: Operation not permitted");
        }
    }

    @Test
    void aTcpCheckSeesTheAppInItsNamespaceNotPastasPort() throws Exception {
        // pasta holds the host's port and accepts whether or not the app listens: the guest's own sockets decide.
        InstanceSpec silent = spec("hello-v1-silent", MEMORY, "--exit-code", "0", "--exit-after-ms", "60000");
        InstanceHandle quiet = start(driver(), silent);
        awaitLog(silent, "HOME=");
        assertThat(HealthCheck.tcp(quiet.guest(), Duration.ofMillis(50), Duration.ofSeconds(1))
                        .await(Duration.ofSeconds(1), quiet.exited()))
                .isInstanceOfSatisfying(
                        HealthCheck.Unhealthy.class,
                        u -> assertThat(u.reason())
                                .contains("nothing listens on port " + silent.port() + " inside the instance"));

        InstanceSpec serving = spec("hello-v1-listens", MEMORY, "--port", "{port}");
        InstanceHandle handle = start(driver(), serving);
        assertThat(HealthCheck.tcp(handle.guest(), Duration.ofMillis(50), Duration.ofSeconds(1))
                        .await(Duration.ofSeconds(10), handle.exited()))
                .isInstanceOf(HealthCheck.Healthy.class);
    }

    @Test
    void pastaAndTheControlGroupGoWhenTheInstanceEnds() throws Exception {
        InstanceSpec spec = spec("hello-v1-left", MEMORY, "--exit-code", "3", "--exit-after-ms", "300");
        InstanceHandle handle = start(driver(), spec);
        Sandbox.Leftovers left =
                InstanceStateFile.readJson(spec.stateDir().resolve(ProcessDriver.LEFTOVERS), Sandbox.Leftovers.class);
        assertThat(left.pastaPid()).isPositive();
        assertThat(left.cgroups()).isNotEmpty().allSatisfy(d -> assertThat(d).exists());

        assertThat(handle.exited().get(10, TimeUnit.SECONDS)).isEqualTo(3);
        // Released just after the exit is reported, off its path.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((ProcessHandle.of(left.pastaPid()).map(ProcessHandle::isAlive).orElse(false)
                        || left.cgroups().stream().anyMatch(Files::exists))
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(ProcessHandle.of(left.pastaPid()).map(ProcessHandle::isAlive).orElse(false))
                .isFalse();
        assertThat(left.cgroups()).allSatisfy(d -> assertThat(d).doesNotExist());
    }

    @Test
    void stopLetsTheAppExitOnSigterm() throws Exception {
        InstanceSpec spec = spec("hello-v1-term", MEMORY, "--port", "{port}");
        InstanceHandle handle = start(driver(), spec);
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
        InstanceHandle handle = start(driver(), spec);
        awaitLog(spec, "listening on");
        List<ProcessHandle> tree = tree(handle);

        handle.stop(Duration.ofMillis(500));

        assertThat(handle.isAlive()).isFalse();
        assertThat(handle.exited()).isDone();
        assertThat(tree).noneMatch(ProcessDriverTest::running);
        assertThat(Files.readString(spec.logFile()))
                .contains("ignoring SIGTERM")
                .doesNotContain("got SIGTERM");
    }

    @Test
    void exitCodeOfTheAppIsTheInstancesExitCode() throws Exception {
        InstanceSpec spec = spec("hello-v1-exit", MEMORY, "--exit-code", "7", "--exit-after-ms", "50");
        InstanceHandle handle = start(driver(), spec);

        assertThat(handle.exited().get(10, TimeUnit.SECONDS)).isEqualTo(7);
        assertThat(handle.isAlive()).isFalse();
    }

    @Test
    void restartedAgentReadoptsTheRunningInstanceAndCanStopIt() throws Exception {
        InstanceSpec spec = spec("hello-v1-adopt", MEMORY, "--port", "{port}");
        InstanceHandle first = start(driver(), spec);
        awaitLog(spec, "listening on");

        // What a restarted agent has: only the state file.
        InstanceState persisted = InstanceStateFile.read(spec.stateDir().resolve("state.json"));
        Optional<InstanceHandle> adopted = driver().recover(persisted);

        assertThat(persisted).isEqualTo(first.state());
        assertThat(adopted).isPresent();
        InstanceHandle handle = adopted.get();
        assertThat(handle.state().pid()).isEqualTo(first.state().pid());
        assertThat(handle.isAlive()).isTrue();
        assertThat(HealthCheck.http(
                                "127.0.0.1", spec.port(), "/health", 200, Duration.ofMillis(50), Duration.ofSeconds(2))
                        .await(Duration.ofSeconds(10), handle::isAlive))
                .isInstanceOf(HealthCheck.Healthy.class);
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
        InstanceHandle handle = start(driver(), spec);
        handle.stop(Duration.ofSeconds(5));

        assertThat(driver().recover(handle.state())).isEmpty();
    }

    @Test
    void recoverFindsNothingWhenThePidBelongsToAnotherProcess() throws Exception {
        InstanceSpec spec = spec("hello-v1-reuse", MEMORY, "--port", "{port}");
        InstanceHandle handle = start(driver(), spec);
        InstanceState s = handle.state();
        // Same pid, different start time: what a reused pid looks like.
        InstanceState reused = new InstanceState(
                s.id(),
                s.app(),
                s.release(),
                s.driver(),
                s.pid(),
                s.startTicks() - 1,
                s.port(),
                s.logFile(),
                s.stateDir(),
                s.startedAt());

        assertThat(driver().recover(reused)).isEmpty();
        assertThat(driver().recover(s)).isPresent();
        assertThat(handle.isAlive()).isTrue();
    }

    @Test
    void stateFileRoundTripsWithPlainPaths() throws Exception {
        InstanceState state = new InstanceState(
                "hello-v2-abcd",
                "hello",
                2,
                "process",
                1234,
                567890,
                4100,
                dir.resolve("console.log"),
                dir,
                java.time.Instant.parse("2026-11-23T10:15:30.123Z"));
        Path file = InstanceStateFile.in(dir);

        InstanceStateFile.write(file, state);

        assertThat(InstanceStateFile.read(file)).isEqualTo(state);
        assertThat(Files.readString(file))
                .contains(
                        "\"startedAt\" : \"2026-11-23T10:15:30.123Z\"",
                        "\"stateDir\" : \"" + dir + "\"",
                        "\"logFile\" : \"" + dir.resolve("console.log") + "\"");
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
        List<String> filled = java.util.Arrays.stream(args)
                .map(a -> a.replace("{port}", Integer.toString(port)))
                .toList();
        return new InstanceSpec(
                id,
                "hello",
                1,
                TestServer.binary(),
                null,
                filled,
                Map.of("FOO", "bar", "PORT", Integer.toString(port)),
                memory,
                port,
                0,
                stateDir.resolve("console.log"),
                stateDir,
                Duration.ofSeconds(5));
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
