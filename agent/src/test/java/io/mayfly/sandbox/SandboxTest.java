package io.mayfly.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.mayfly.agent.driver.process.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sandbox with the real bubblewrap, setpriv, pasta and control groups of this host (CI installs them; it runs as root). */
class SandboxTest {
    @TempDir
    Path dir;

    Sandbox sandbox;

    @BeforeEach
    void setUp() throws IOException {
        sandbox = Sandbox.onThisHost(dir.resolve("state"));
        assertThat(sandbox.shortcomings())
                .as("this host lacks part of the sandbox")
                .isEmpty();
    }

    @Test
    void anInstanceRunsAsNobodyWithNoCapabilityUnderSeccompAndCannotMakeNamespaces() throws Exception {
        Result r = run(instance("whoami", Network.NONE, "--whoami", "--unshare", "--exit-code", "0"));
        assertThat(r.output)
                .contains(
                        "uid " + Sandbox.NOBODY,
                        "CapEff:\t0000000000000000",
                        "NoNewPrivs:\t1",
                        "Seccomp:\t2",
                        "unshare failed: Operation not permitted");
        assertThat(r.code).isZero();
    }

    @Test
    void aSandboxWithoutNetworkCannotReachTheHostsLoopback() throws Exception {
        try (ServerSocket api = listener()) {
            Result r = run(instance(
                    "nonet", Network.NONE, "--connect", Integer.toString(api.getLocalPort()), "--exit-code", "0"));
            assertThat(r.output).contains("connect " + api.getLocalPort() + " failed: Connection refused");
        }
    }

    @Test
    void theInternetDoesNotIncludeTheHostsLoopback() throws Exception {
        try (ServerSocket api = listener()) {
            Result r = run(instance(
                    "inet", Network.outbound(), "--connect", Integer.toString(api.getLocalPort()), "--exit-code", "0"));
            assertThat(r.output).contains("connect " + api.getLocalPort() + " failed");
        }
    }

    @Test
    void onlyTheForwardedHostPortIsReachable() throws Exception {
        try (ServerSocket allowed = listener();
                ServerSocket other = listener()) {
            Network net = new Network(false, List.of(), List.of(allowed.getLocalPort()));
            Result r = run(instance(
                    "tohost",
                    net,
                    "--connect",
                    Integer.toString(allowed.getLocalPort()),
                    "--connect",
                    Integer.toString(other.getLocalPort()),
                    "--exit-code",
                    "0"));
            assertThat(r.output)
                    .contains(
                            "connect " + allowed.getLocalPort() + " ok", "connect " + other.getLocalPort() + " failed");
        }
    }

    @Test
    void anInboundPortReachesTheAppOnItsOwnLoopback() throws Exception {
        int port;
        try (ServerSocket s = listener()) {
            port = s.getLocalPort();
        }
        Sandbox.Prepared prepared = sandbox.prepare(
                instance("inbound", new Network(false, List.of(port), List.of()), "--port", Integer.toString(port)));
        Sandbox.Running running = prepared.start(new ProcessBuilder()
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("inbound.log").toFile()));
        try {
            String answer = null;
            for (int i = 0; i < 500 && answer == null; i++) {
                answer = get(port);
                if (answer == null) Thread.sleep(10);
            }
            assertThat(answer).contains("hello from testserver");
            // The app's socket is in the sandbox's network namespace, not the host's: pasta holds the host's port.
            String tcp = Files.readString(Path.of("/proc/" + running.sandboxPid() + "/net/tcp"));
            assertThat(tcp).containsIgnoringCase(String.format(":%04X 00000000:0000 0A", port));
        } finally {
            running.process().descendants().forEach(ProcessHandle::destroyForcibly);
            running.process().destroyForcibly();
            running.process().waitFor(5, TimeUnit.SECONDS);
            running.cleanUp();
        }
    }

    @Test
    void pastaEndsWithItsSandboxEvenWhenNobodyIsLeftToEndIt() throws Exception {
        int port;
        try (ServerSocket s = listener()) {
            port = s.getLocalPort();
        }
        Sandbox.Running running = sandbox.prepare(instance(
                        "orphan", new Network(false, List.of(port), List.of()), "--port", Integer.toString(port)))
                .start(new ProcessBuilder()
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve("orphan.log").toFile()));
        Process pasta = running.pasta().orElseThrow();
        // The agent is gone (no cleanUp); the sandbox is killed from outside, as by an operator.
        running.process().descendants().forEach(ProcessHandle::destroyForcibly);
        running.process().destroyForcibly();
        assertThat(pasta.waitFor(10, TimeUnit.SECONDS))
                .as("pasta ended with its sandbox")
                .isTrue();
        assertThat(ProcessHandle.allProcesses()
                        .filter(p -> p.info()
                                .commandLine()
                                .orElse("")
                                .contains(dir.resolve("orphan").toString())))
                .as("nothing of the sandbox left")
                .isEmpty();
    }

    @Test
    void aBuildSeesTheHostsSystemButNotItsSecretsAndWritesOnlyItsDirectory() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        Files.setAttribute(work, "unix:uid", Sandbox.NOBODY);
        Result r = run(build(
                "sees",
                work,
                Sandbox.Limits.NONE,
                "id -u; cat /etc/shadow >/dev/null 2>&1 && echo shadow readable || echo shadow hidden; "
                        + "ls /root >/dev/null 2>&1 && echo root visible || echo root hidden; "
                        + "echo made > /build/out && echo wrote build; touch /usr/x 2>/dev/null || echo usr read-only; "
                        + "grep Seccomp: /proc/self/status"));
        assertThat(r.output)
                .contains(
                        Sandbox.NOBODY + "\n",
                        "shadow hidden",
                        "root hidden",
                        "wrote build",
                        "usr read-only",
                        "Seccomp:\t2");
        assertThat(Files.readString(work.resolve("out"))).isEqualTo("made\n");
    }

    @Test
    void aForkBombStopsAtTheProcessLimitAndSaysSo() throws Exception {
        Result r = run(build(
                "forks",
                dir,
                new Sandbox.Limits(0, 16, 0, 0),
                "for i in $(seq 1 40); do sleep 2 & done 2>/dev/null; echo started; wait"));
        assertThat(r.limitHit).contains("limit of 16 processes");
    }

    @Test
    void memoryBeyondTheLimitIsKilledAndSaysSo() throws Exception {
        Result r = run(build(
                "mem",
                dir,
                new Sandbox.Limits(32L << 20, 0, 0, 0),
                "awk 'BEGIN { s = \"xxxxxxxxxxxxxxxx\"; while (1) s = s s }'"));
        assertThat(r.code).isNotZero();
        assertThat(r.limitHit).contains("ran out of memory (limit 32 MiB)");
    }

    @Test
    void tmpAndFilesHaveASizeLimit() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        Files.setAttribute(work, "unix:uid", Sandbox.NOBODY);
        Result tmp = run(build(
                "tmp",
                work,
                new Sandbox.Limits(0, 0, 4L << 20, 0),
                "dd if=/dev/zero of=/tmp/big bs=1M count=8 2>&1; echo done"));
        assertThat(tmp.output).contains("No space left on device");
        Result file = run(build(
                "file", work, new Sandbox.Limits(0, 0, 0, 1L << 20), "dd if=/dev/zero of=/build/big bs=1M count=8"));
        assertThat(file.code).as("killed by SIGXFSZ").isEqualTo(128 + 25);
        assertThat(Files.size(work.resolve("big"))).isEqualTo(1L << 20);
    }

    private Sandbox.Spec instance(String name, Network network, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("/app/server"));
        command.addAll(List.of(args));
        return new Sandbox.Spec(
                name + "-"
                        + HexFormat.of()
                                .toHexDigits((short) ThreadLocalRandom.current().nextInt()),
                false,
                List.of(new Sandbox.Mount.Copied(TestServer.binary(), "/app/server", "0555")),
                network,
                name,
                Map.of("PORT", "1"),
                "/",
                command,
                Sandbox.Limits.NONE,
                dir.resolve(name),
                false);
    }

    private Sandbox.Spec build(String name, Path work, Sandbox.Limits limits, String script) {
        return new Sandbox.Spec(
                "build-" + name + "-"
                        + HexFormat.of()
                                .toHexDigits((short) ThreadLocalRandom.current().nextInt()),
                true,
                List.of(new Sandbox.Mount.Writable(work, "/build")),
                Network.NONE,
                "build",
                Map.of("PATH", "/usr/bin:/bin"),
                "/build",
                List.of("/bin/sh", "-c", script),
                limits,
                dir.resolve("run-" + name),
                true);
    }

    record Result(int code, String output, String limitHit) {}

    private Result run(Sandbox.Spec spec) throws Exception {
        Sandbox.Prepared prepared = sandbox.prepare(spec);
        Sandbox.Running running = prepared.start(new ProcessBuilder().redirectErrorStream(true));
        String output;
        try (InputStream in = running.process().getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(running.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        String hit = running.limitHit().orElse("");
        running.cleanUp();
        return new Result(running.process().exitValue(), output, hit);
    }

    private static ServerSocket listener() throws IOException {
        return new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    private static String get(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(2000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            return answer.isEmpty() ? null : answer;
        } catch (IOException e) {
            return null;
        }
    }
}
