package io.mayfly.server.build;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.ObjectId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** Real bubblewrap, real sh: what a build can and cannot see and do. */
class SandboxedBuildTest {
    @TempDir
    Path tmp;

    private BuildResult build(String command, boolean network, List<Path> hostPaths, Duration timeout, long maxLog, List<String> lines)
            throws Exception {
        Path work = Files.createDirectories(tmp.resolve("work"));
        BuildRequest req = new BuildRequest("test", work, command, network, hostPaths, Map.of("SOURCE_DATE_EPOCH", "1"),
                timeout, maxLog, tmp.resolve("build.log"));
        return new SandboxedBuild().run(req, lines::add);
    }

    private BuildResult build(String command, List<String> lines) throws Exception {
        return build(command, false, List.of(), Duration.ofMinutes(1), 1 << 20, lines);
    }

    @Test
    void outputIsStreamedLineByLineInOrderAndLogged() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        BuildResult r = build("echo one; echo two >&2; echo three", lines);
        assertThat(r.outcome()).isInstanceOf(BuildOutcome.Succeeded.class);
        assertThat(r.sandboxed()).isEqualTo(SandboxedBuild.bwrapAvailable());
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
        BuildResult r = build("sleep 600 & sleep 600; echo " + marker, false, List.of(), Duration.ofSeconds(1), 1 << 20, new CopyOnWriteArrayList<>());
        assertThat(r.outcome()).isInstanceOf(BuildOutcome.Failed.class);
        assertThat(((BuildOutcome.Failed) r.outcome()).reason()).contains("timed out after 1s");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
        Thread.sleep(200);
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("sleep 600")).count())
                .as("no sleep left behind").isZero();
    }

    @Test
    void aRunawayLogIsCappedAndStopsTheBuild() throws Exception {
        BuildResult r = build("yes mayfly", false, List.of(), Duration.ofMinutes(1), 64 * 1024, new CopyOnWriteArrayList<>());
        assertThat(r.outcome()).isInstanceOf(BuildOutcome.Failed.class);
        assertThat(((BuildOutcome.Failed) r.outcome()).reason()).contains("build log exceeded");
        assertThat(Files.size(tmp.resolve("build.log"))).isLessThanOrEqualTo(64 * 1024);
    }

    @Test
    void theNetworkIsClosedUnlessTheManifestAsksForIt() throws Exception {
        assumeThat(SandboxedBuild.bwrapAvailable()).as("bubblewrap installed").isTrue();
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
            String probe = "exec 3<>/dev/tcp/127.0.0.1/" + listener.getLocalPort() + " && echo connected || echo refused";
            List<String> closed = new CopyOnWriteArrayList<>();
            build("bash -c '" + probe + "' 2>&1", false, List.of(), Duration.ofMinutes(1), 1 << 20, closed);
            assertThat(closed).contains("refused").doesNotContain("connected");
            List<String> open = new CopyOnWriteArrayList<>();
            build("bash -c '" + probe + "' 2>&1", true, List.of(), Duration.ofMinutes(1), 1 << 20, open);
            assertThat(open).contains("connected");
        }
    }

    @Test
    void theServersDataDirectoryIsInvisibleAndHostPathsAreReadOnly() throws Exception {
        assumeThat(SandboxedBuild.bwrapAvailable()).as("bubblewrap installed").isTrue();
        Path data = Files.createDirectories(tmp.resolve("data"));
        Files.writeString(data.resolve("admin.token"), "secret");
        Path shared = Files.createDirectories(tmp.resolve("shared"));
        Files.writeString(shared.resolve("kernel"), "bytes\n");
        List<String> lines = new CopyOnWriteArrayList<>();
        build("cat " + data.resolve("admin.token") + " || echo hidden; cat " + shared.resolve("kernel")
                        + "; echo x > " + shared.resolve("kernel") + " || echo readonly; touch made-here && echo writable-checkout",
                false, List.of(shared), Duration.ofMinutes(1), 1 << 20, lines);
        assertThat(lines).contains("hidden", "bytes", "readonly", "writable-checkout").doesNotContain("secret");
        assertThat(Files.readString(shared.resolve("kernel"))).isEqualTo("bytes\n");
        assertThat(tmp.resolve("work/made-here")).exists();
    }

    @Test
    void checkoutKeepsExecutableBitsAndDirectories() throws Exception {
        Path repoDir = tmp.resolve("repo");
        try (Git git = Git.init().setDirectory(repoDir.toFile()).setInitialBranch("main").call()) {
            Files.createDirectories(repoDir.resolve("src"));
            Files.writeString(repoDir.resolve("src/main.c"), "int main(){return 0;}\n");
            Path script = repoDir.resolve("build.sh");
            Files.writeString(script, "#!/bin/sh\necho built\n");
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
            git.add().addFilepattern(".").call();
            ObjectId commit = git.commit().setMessage("x").setAuthor("t", "t@t").setCommitter("t", "t@t").setSign(false).call();
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
            BuildRequest req = new BuildRequest("test", work, "make", false, List.of(), Map.of("SOURCE_DATE_EPOCH", "1"),
                    Duration.ofMinutes(2), 1 << 20, tmp.resolve("hello-" + i + ".log"));
            assertThat(new SandboxedBuild().run(req, line -> {}).outcome()).isInstanceOf(BuildOutcome.Succeeded.class);
            digests[i] = io.mayfly.server.store.ContentAddressedBlobs.digestOf(SandboxedBuild.requireArtifact(work, "hello"));
        }
        assertThat(digests[0]).isEqualTo(digests[1]);
    }

    @Test
    void aMissingArtifactIsNamedWithWhatIsThere() throws Exception {
        Path work = Files.createDirectories(tmp.resolve("w"));
        Files.writeString(work.resolve("other"), "x");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> SandboxedBuild.requireArtifact(work, "hello")))
                .hasMessageContaining("artifact = \"hello\"").hasMessageContaining("other");
    }

    @Test
    void provenanceNamesTheToolsAndPackagesAndItsDigestFollowsTheInputs() {
        Provenance a = Provenance.capture("abc", "make", Map.of("K", "v"));
        Provenance b = Provenance.capture("abc", "make", Map.of("K", "v"));
        Provenance c = Provenance.capture("abc", "make all", Map.of("K", "v"));
        assertThat(a.tools()).containsKey("gcc");
        assertThat(a.packages()).isNotEmpty();
        assertThat(a.osRelease()).isNotBlank();
        assertThat(a.inputsDigest()).isEqualTo(b.inputsDigest()).isNotEqualTo(c.inputsDigest()).hasSize(64);
        assertThat(Provenance.fromJson(a.toJson())).isEqualTo(a);
    }
}
