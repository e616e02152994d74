package io.mayfly.server.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.ObjectId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real bubblewrap, real sh: what a build can and cannot see and do. */
class SandboxedBuildTest {
    @TempDir
    Path tmp;

    private BuildResult build(
            String command, boolean network, List<Path> hostPaths, Duration timeout, long maxLog, List<String> lines)
            throws Exception {
        return build(command, network, List.of(), hostPaths, timeout, maxLog, lines);
    }

    private BuildResult build(
            String command,
            boolean network,
            List<Integer> hostPorts,
            List<Path> hostPaths,
            Duration timeout,
            long maxLog,
            List<String> lines)
            throws Exception {
        Path work = Files.createDirectories(tmp.resolve("work"));
        BuildRequest req = new BuildRequest(
                "test",
                work,
                command,
                network,
                hostPorts,
                hostPaths,
                Map.of("SOURCE_DATE_EPOCH", "1"),
                timeout,
                maxLog,
                tmp.resolve("build.log"),
                List.of());
        return sandbox(policy(hostPaths, BuildPolicy.DEFAULT_DISK)).run(req, lines::add);
    }

    private BuildPolicy policy(List<Path> hostPaths, long disk) {
        return BuildPolicy.of(hostPaths, 256L << 20, 64, 16L << 20, disk, Duration.ofMinutes(10), tmp.resolve("data"));
    }

    private SandboxedBuild sandbox(BuildPolicy policy) throws Exception {
        return SandboxedBuild.onThisHost(tmp.resolve("sandbox"), policy);
    }

    private BuildResult build(String command, List<String> lines) throws Exception {
        return build(command, false, List.of(), Duration.ofMinutes(1), 1 << 20, lines);
    }

    @Test
    void outputIsStreamedLineByLineInOrderAndLogged() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        BuildResult r = build("echo one; echo two >&2; echo three", lines);
        assertThat(r.outcome()).isInstanceOf(BuildOutcome.Succeeded.class);
        assertThat(r.sandboxed()).isTrue();
        assertThat(lines).containsSubsequence("one", "two", "three");
        assertThat(Files.readString(tmp.resolve("build.log"))).contains("one\n", "two\n", "three\n");
    }

    @Test
    void aNonZeroExitFailsTheBuildWithTheCode() throws Exception {
        BuildResult r = build("exit 3", new CopyOnWriteArrayList<>());
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.outcome()).isEqualTo(new BuildOutcome.Failed("the build command exited with code 3"));
    }

    @Test
    void aBuildPastItsTimeLimitIsKilledWithEverythingItStarted() throws Exception {
        String marker = "mayfly-timeout-" + System.nanoTime();
        long start = System.nanoTime();
        BuildResult r = build(
                "sleep 600 & sleep 600; echo " + marker,
                false,
                List.of(),
                Duration.ofSeconds(1),
                1 << 20,
                new CopyOnWriteArrayList<>());
        assertThat(r.outcome()).isInstanceOf(BuildOutcome.Failed.class);
        assertThat(((BuildOutcome.Failed) r.outcome()).reason()).contains("timed out after 1s");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
        Thread.sleep(200);
        assertThat(ProcessHandle.allProcesses()
                        .filter(p -> p.info().commandLine().orElse("").contains("sleep 600"))
                        .count())
                .as("no sleep left behind")
                .isZero();
    }

    @Test
    void aRunawayLogIsCappedAndStopsTheBuild() throws Exception {
        BuildResult r =
                build("yes mayfly", false, List.of(), Duration.ofMinutes(1), 64 * 1024, new CopyOnWriteArrayList<>());
        assertThat(r.outcome()).isInstanceOf(BuildOutcome.Failed.class);
        assertThat(((BuildOutcome.Failed) r.outcome()).reason()).contains("output exceeded 64 KiB");
        assertThat(Files.size(tmp.resolve("build.log"))).isLessThanOrEqualTo(64 * 1024);
    }

    @Test
    void theNetworkIsClosedUnlessAskedAndNeverReachesTheHostsLoopback() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                while (!listener.isClosed()) {
                    try {
                        listener.accept().close();
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            String probe =
                    "exec 3<>/dev/tcp/127.0.0.1/" + listener.getLocalPort() + " && echo connected || echo refused";
            List<String> closed = new CopyOnWriteArrayList<>();
            build(
                    "bash -c '" + probe + "' 2>&1; cat /proc/net/route | wc -l",
                    false,
                    List.of(),
                    Duration.ofMinutes(1),
                    1 << 20,
                    closed);
            assertThat(closed).contains("refused", "1").doesNotContain("connected");
            // The network a manifest asks for reaches out (a default route, through pasta), but never the host's
            // loopback.
            List<String> out = new CopyOnWriteArrayList<>();
            build(
                    "bash -c '" + probe + "' 2>&1; grep -c 00000000 /proc/net/route",
                    true,
                    List.of(),
                    Duration.ofMinutes(1),
                    1 << 20,
                    out);
            assertThat(out).contains("refused").doesNotContain("connected", "0");
            // A staged test reaches the one host port it is given.
            List<String> test = new CopyOnWriteArrayList<>();
            build(
                    "bash -c '" + probe + "' 2>&1",
                    true,
                    List.of(listener.getLocalPort()),
                    List.of(),
                    Duration.ofMinutes(1),
                    1 << 20,
                    test);
            assertThat(test).contains("connected");
        }
    }

    @Test
    void theServersDataDirectoryIsInvisibleAndHostPathsAreReadOnly() throws Exception {
        Path data = Files.createDirectories(tmp.resolve("data"));
        Files.writeString(data.resolve("admin.token"), "secret");
        // Host paths are read by the build's unprivileged user: they must be readable by anyone, as /boot is.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path shared = Files.createDirectories(tmp.resolve("shared"));
        Files.writeString(shared.resolve("kernel"), "bytes\n");
        List<String> lines = new CopyOnWriteArrayList<>();
        build(
                "cat " + data.resolve("admin.token") + " || echo hidden; cat " + shared.resolve("kernel")
                        + "; echo x > " + shared.resolve("kernel")
                        + " || echo readonly; touch made-here && echo writable-checkout",
                false,
                List.of(shared),
                Duration.ofMinutes(1),
                1 << 20,
                lines);
        assertThat(lines)
                .contains("hidden", "bytes", "readonly", "writable-checkout")
                .doesNotContain("secret");
        assertThat(Files.readString(shared.resolve("kernel"))).isEqualTo("bytes\n");
        assertThat(tmp.resolve("work/made-here")).exists();
    }

    @Test
    void checkoutKeepsExecutableBitsAndDirectories() throws Exception {
        Path repoDir = tmp.resolve("repo");
        try (Git git = Git.init()
                .setDirectory(repoDir.toFile())
                .setInitialBranch("main")
                .call()) {
            Files.createDirectories(repoDir.resolve("src"));
            Files.writeString(repoDir.resolve("src/main.c"), "int main(){return 0;}\n");
            Path script = repoDir.resolve("build.sh");
            Files.writeString(script, "#!/bin/sh\necho built\n");
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
            git.add().addFilepattern(".").call();
            ObjectId commit = git.commit()
                    .setMessage("x")
                    .setAuthor("t", "t@t")
                    .setCommitter("t", "t@t")
                    .setSign(false)
                    .call();
            Path out = tmp.resolve("checkout");
            Checkout.write(git.getRepository(), commit, out);
            assertThat(out.resolve("src/main.c")).hasContent("int main(){return 0;}");
            assertThat(Files.isExecutable(out.resolve("build.sh"))).isTrue();
            assertThat(Files.isExecutable(out.resolve("src/main.c"))).isFalse();
        }
    }

    @Test
    void buildingExamplesHelloTwiceGivesTheSameSha256() throws Exception {
        Path example = Path.of("..", "examples", "hello").toAbsolutePath().normalize();
        assumeThat(example.resolve("hello.c")).exists();
        String[] digests = new String[2];
        for (int i = 0; i < 2; i++) {
            Path work = Files.createDirectories(tmp.resolve("hello-" + i));
            for (String f : List.of("hello.c", "Makefile")) Files.copy(example.resolve(f), work.resolve(f));
            BuildRequest req = new BuildRequest(
                    "test",
                    work,
                    "make",
                    false,
                    List.of(),
                    Map.of("SOURCE_DATE_EPOCH", "1"),
                    Duration.ofMinutes(2),
                    1 << 20,
                    tmp.resolve("hello-" + i + ".log"));
            assertThat(sandbox(policy(List.of(), BuildPolicy.DEFAULT_DISK))
                            .run(req, line -> {})
                            .outcome())
                    .isInstanceOf(BuildOutcome.Succeeded.class);
            digests[i] = io.mayfly.server.store.ContentAddressedBlobs.digestOf(
                    SandboxedBuild.requireArtifact(work, "hello"));
        }
        assertThat(digests[0]).isEqualTo(digests[1]);
    }

    @Test
    void aMissingArtifactIsNamedWithWhatIsThere() throws Exception {
        Path work = Files.createDirectories(tmp.resolve("w"));
        Files.writeString(work.resolve("other"), "x");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> SandboxedBuild.requireArtifact(work, "hello")))
                .hasMessageContaining("artifact = \"hello\"")
                .hasMessageContaining("other");
    }

    @Test
    void theBuildRunsAsAnUnprivilegedUserUnderSeccomp() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        build(
                "id -u; grep -E 'CapEff|NoNewPrivs|Seccomp:' /proc/self/status; unshare -U true 2>&1 | head -1; cat /etc/shadow 2>&1 | head -1",
                lines);
        assertThat(lines).contains("65534", "CapEff:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2");
        assertThat(String.join("\n", lines))
                .contains("unshare: unshare failed: Operation not permitted", "Permission denied");
    }

    @Test
    void outputWithoutANewlineIsCutInLinesAndStoppedAtTheCap() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        BuildResult r = build(
                "head -c 3000000 /dev/zero | tr '\\0' a", false, List.of(), Duration.ofMinutes(1), 64 * 1024, lines);
        assertThat(r.outcome()).isInstanceOf(BuildOutcome.Failed.class);
        assertThat(((BuildOutcome.Failed) r.outcome()).reason()).contains("output exceeded 64 KiB");
        assertThat(Files.size(tmp.resolve("build.log"))).isEqualTo(64 * 1024);
        assertThat(lines).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(SandboxedBuild.MAX_LINE));
    }

    @Test
    void theBuildDirectoryHasADiskLimit() throws Exception {
        Path work = Files.createDirectories(tmp.resolve("work"));
        BuildRequest req = new BuildRequest(
                "test",
                work,
                "for i in 1 2 3 4 5 6; do head -c 4000000 /dev/zero > f$i; done; sleep 5",
                false,
                List.of(),
                Map.of(),
                Duration.ofMinutes(1),
                1 << 20,
                tmp.resolve("build.log"));
        BuildResult r = sandbox(policy(List.of(), 8L << 20)).run(req, line -> {});
        assertThat(((BuildOutcome.Failed) r.outcome()).reason())
                .contains("build directory grew to", "past the 8 MiB a build may use");
    }

    @Test
    void hostPathsAndTimeoutsBeyondTheServersPolicyAreRefusedWithWhatIsAllowed() throws Exception {
        Path shared = Files.createDirectories(tmp.resolve("shared"));
        Path data = Files.createDirectories(tmp.resolve("data"));
        Files.createSymbolicLink(shared.resolve("escape"), data);
        BuildPolicy policy = policy(List.of(shared), BuildPolicy.DEFAULT_DISK);
        assertThat(policy.refuseHostPaths(List.of(shared.resolve("sub").toString())))
                .isEmpty();
        assertThat(policy.refuseHostPaths(List.of("/root")))
                .get(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .contains("asks for /root", "it shares " + shared, "--build-host-path");
        assertThat(policy.refuseHostPaths(List.of(shared.resolve("escape").toString())))
                .get(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .contains("which leads to " + data);
        assertThat(policy.refuseTimeout(Duration.ofHours(5)))
                .get(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                .contains("longer than this server allows", "--build-max-timeout");
        Path work = Files.createDirectories(tmp.resolve("work"));
        BuildRequest req = new BuildRequest(
                "test",
                work,
                "cat /root/.bashrc",
                false,
                List.of(Path.of("/root")),
                Map.of(),
                Duration.ofMinutes(1),
                1 << 20,
                tmp.resolve("build.log"));
        BuildResult r = sandbox(policy).run(req, line -> {});
        assertThat(((BuildOutcome.Failed) r.outcome()).reason()).contains("asks for /root");
    }

    @Test
    void theOperatorCannotShareTheDataDirectoryOrSecrets() {
        Path data = tmp.resolve("data");
        for (Path p : List.of(
                data,
                data.resolve("blobs"),
                tmp,
                Path.of("/"),
                Path.of("/root"),
                Path.of("/etc"),
                Path.of("/etc/ssh"))) {
            assertThat(org.assertj.core.api.Assertions.catchThrowable(
                            () -> BuildPolicy.of(List.of(p), 1, 1, 1, 1, Duration.ofHours(1), data)))
                    .as(p.toString())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("cannot be shared with builds");
        }
        assertThat(BuildPolicy.of(List.of(Path.of("/boot")), 1, 1, 1, 1, Duration.ofHours(1), data)
                        .hostPaths())
                .containsExactly(Path.of("/boot"));
    }

    @Test
    void anArtifactThatIsASymlinkOrGoesThroughOneIsRefused() throws Exception {
        Path work = Files.createDirectories(tmp.resolve("links"));
        Path secret = Files.writeString(tmp.resolve("signing-key"), "PRIVATE");
        Files.createSymbolicLink(work.resolve("loot"), secret);
        Files.createSymbolicLink(work.resolve("dist"), tmp);
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> SandboxedBuild.requireArtifact(work, "loot")))
                .hasMessageContaining("\"loot\" is a symbolic link");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(
                        () -> SandboxedBuild.requireArtifact(work, "dist/signing-key")))
                .hasMessageContaining("(at dist)");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(
                        () -> SandboxedBuild.requireArtifact(work, "../signing-key")))
                .hasMessageContaining("not inside the build directory");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(
                        () -> new io.mayfly.server.store.ContentAddressedBlobs(tmp.resolve("blobs"), null)
                                .put(work.resolve("loot"))))
                .isInstanceOf(java.io.IOException.class);
    }

    @Test
    void provenanceNamesTheToolsAndPackagesAndItsDigestFollowsTheInputs() {
        Provenance a = Provenance.capture("abc", "make", Map.of("K", "v"));
        Provenance b = Provenance.capture("abc", "make", Map.of("K", "v"));
        Provenance c = Provenance.capture("abc", "make all", Map.of("K", "v"));
        assertThat(a.tools()).containsKey("gcc");
        assertThat(a.packages()).isNotEmpty();
        assertThat(a.osRelease()).isNotBlank();
        assertThat(a.inputsDigest())
                .isEqualTo(b.inputsDigest())
                .isNotEqualTo(c.inputsDigest())
                .hasSize(64);
        assertThat(Provenance.fromJson(a.toJson())).isEqualTo(a);
    }
}
