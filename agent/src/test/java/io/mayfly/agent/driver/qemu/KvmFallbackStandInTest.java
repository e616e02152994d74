package io.mayfly.agent.driver.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.mayfly.agent.Agent;
import io.mayfly.agent.Instance;
import io.mayfly.agent.StartRequest;
import io.mayfly.agent.deploy.DeployOutcome;
import io.mayfly.agent.deploy.DeployStrategy;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.router.Router;
import io.mayfly.wire.StagedTest;
import io.mayfly.wire.manifest.Manifest;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The QEMU driver on a host whose KVM half-works. Such a host cannot be had on demand, so a stand-in
 * {@code qemu-system-x86_64} placed first plays its KVM: under {@code -accel kvm} it prints what QEMU prints there
 * into the console chardev's file ({@code KVM internal error. Suberror: 1 ... emulation failure}), or nothing, and
 * hangs as QEMU does; otherwise it execs the real QEMU with its arguments, so the fallback under TCG is real: the test
 * VM boots and serves HTTP.
 */
class KvmFallbackStandInTest {
    /** The manifest's health timeout: what a push on such a host used to wait before it failed. */
    private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private Router router;
    private InetSocketAddress routerAddress;
    private Agent agent;
    private int release;

    @BeforeAll
    static void vm() throws Exception {
        assumeThat(TestVm.possible()).as("QEMU and a kernel in /boot").isTrue();
        TestVm.build();
    }

    @AfterEach
    void stop() {
        if (agent == null) return;
        agent.instances().forEach(agent::stop);
        agent.close();
    }

    @Test
    void aGuestKvmFailsIsBootedUnderTcgAtOnceAndLaterBootsGoStraightToTcg() throws Exception {
        Path kvmRuns = dir.resolve("kvm-runs.txt");
        QemuDriver driver = agentWith(standIn("error", kvmRuns));
        List<String> progress = new CopyOnWriteArrayList<>();
        DeployOutcome first = deploy("first", progress);

        long live = first.phases().get("boot") + first.phases().get("health");
        System.out.println("KVM-broken stand-in host: live in " + live
                + " ms, KVM failure to TCG fallback included (a push used to wait " + HEALTH_TIMEOUT.toSeconds()
                + " s, the health timeout, and fail); the deploy said:\n" + String.join("\n", progress));
        assertThat(Duration.ofMillis(live)).isLessThan(HEALTH_TIMEOUT.dividedBy(2));
        assertThat(get().body()).isEqualTo("hello from first\n");

        Instance instance = agent.instances("app").getFirst();
        String console = Files.readString(instance.state().logFile());
        assertThat(console)
                .contains(
                        "KVM internal error. Suberror: 1",
                        "mayfly: KVM failed this guest (QEMU said: KVM internal error. Suberror: 1)",
                        "booting it again under TCG");
        // The same instance, a new QEMU: the state file names the TCG process, the KVM one is gone, and its end was not
        // the instance's.
        InstanceState persisted =
                InstanceStateFile.read(InstanceStateFile.in(instance.state().stateDir()));
        assertThat(persisted).isEqualTo(instance.state());
        assertThat(Files.readString(Path.of("/proc", Long.toString(persisted.pid()), "cmdline")))
                .contains("-accel\0tcg");
        long kvmPid = Long.parseLong(Files.readAllLines(kvmRuns).getFirst().trim());
        assertThat(ProcessHandle.of(kvmPid).map(ProcessHandle::isAlive)).isNotEqualTo(java.util.Optional.of(true));
        assertThat(instance.handle().exited()).isNotDone();
        assertThat(instance.handle().isAlive()).isTrue();
        assertThat(progress).anyMatch(l -> l.startsWith("       console: "));

        AcceleratorVerdict verdict =
                AcceleratorVerdict.read(dir.resolve("qemu")).orElseThrow();
        assertThat(verdict.verdict()).isEqualTo("tcg");
        assertThat(verdict.why()).contains("KVM internal error");
        assertThat(verdict.image())
                .isEqualTo(new AcceleratorVerdict.Image(
                        "vmlinux",
                        sha256(TestVm.build().kernel()),
                        Files.size(TestVm.build().kernel()),
                        "app",
                        1));
        assertThat(Files.readString(dir.resolve("qemu").resolve("accelerator.json")))
                .contains("\"verdict\" : \"tcg\"", "\"why\"", "\"when\"", "\"sha256\"");
        assertThat(driver.availability().detail())
                .startsWith("TCG (software emulation): KVM failed app v1's vmlinux (sha256 ")
                .contains("mayfly drivers --reprobe");

        DeployOutcome second = deploy("second", progress);
        assertThat(get().body()).isEqualTo("hello from second\n");
        Instance next = agent.instances("app").stream()
                .filter(i -> i.release() == 2)
                .findFirst()
                .orElseThrow();
        assertThat(Files.readString(next.state().logFile()))
                .contains("under QEMU (TCG (software emulation): KVM failed app v1's vmlinux")
                .doesNotContain("\nKVM internal error. Suberror");
        assertThat(Files.readAllLines(kvmRuns)).hasSize(1);
        System.out.println("the next boot, straight under TCG: live in "
                + (second.phases().get("boot") + second.phases().get("health")) + " ms");

        driver.reprobe();
        assertThat(AcceleratorVerdict.read(dir.resolve("qemu"))).isEmpty();
        assertThat(driver.availability().detail()).startsWith("KVM not proven here yet");
    }

    @Test
    void aGuestSilentUnderKvmIsBootedUnderTcgAfterTheDeadline() throws Exception {
        agentWith(standIn("silent", dir.resolve("kvm-runs.txt")));
        DeployOutcome outcome = deploy("quiet-kvm", new CopyOnWriteArrayList<>());

        long live = outcome.phases().get("boot") + outcome.phases().get("health");
        assertThat(Duration.ofMillis(live))
                .isGreaterThanOrEqualTo(KvmWatch.SILENCE)
                .isLessThan(HEALTH_TIMEOUT.dividedBy(2));
        assertThat(get().body()).isEqualTo("hello from quiet-kvm\n");
        assertThat(Files.readString(agent.instances("app").getFirst().state().logFile()))
                .contains("mayfly: KVM failed this guest (the guest printed nothing in 3 s under KVM)");
        // The verdict is kept once the TCG boot printed: that proves the silence was KVM's, not the image's.
        AcceleratorVerdict verdict =
                AcceleratorVerdict.read(dir.resolve("qemu")).orElseThrow();
        assertThat(verdict.verdict()).isEqualTo("tcg");
        assertThat(verdict.why()).contains("printed nothing in 3 s under KVM; under TCG it printed within");
    }

    private QemuDriver agentWith(Path qemu) throws Exception {
        Path root = dir.resolve("host");
        Files.createDirectories(root.resolve("dev"));
        Files.writeString(
                root.resolve("dev/kvm"), ""); // the device is there: whether it runs guests is the stand-in's to say
        QemuDriver driver = new QemuDriver(qemu, Path.of("/usr/bin/setsid"), dir.resolve("qemu"), root);
        router = new Router("localhost", 2);
        routerAddress = router.start(new InetSocketAddress("127.0.0.1", 0));
        agent = new Agent(dir.resolve("agent"), router, List.of(driver));
        return driver;
    }

    /**
     * The stand-in: {@code error} prints a kernel's first line and QEMU's KVM internal error, {@code silent} prints
     * nothing; both then hang (as QEMU does) and note their pid in {@code runs}.
     */
    private Path standIn(String mode, Path runs) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path script = bin.resolve("qemu-system-x86_64");
        Files.writeString(script, """
                #!/bin/bash
                # Stand-in for QEMU on a host whose KVM half-works: KVM boots fail (%1$s), TCG is the real QEMU.
                accel= console= prev=
                for a in "$@"; do
                  case "$prev" in
                    -accel) accel=$a ;;
                    -chardev) console=${a#*path=}; console=${console%%%%,*} ;;
                  esac
                  prev=$a
                done
                if [ "$accel" = kvm ]; then
                  echo $$ >> '%2$s'
                  if [ %1$s = error ]; then
                    printf '[    0.000000] Linux version 6.1.0-stand-in (the kernel prints its first lines under KVM)\\n' >> "$console"
                    printf 'KVM internal error. Suberror: 1\\nextra data[0]: 0x0000000000000001\\nextra data[1]: 0x0000000000000000\\n' >> "$console"
                    printf 'emulation failure\\nEAX=00000000 EBX=00000000 ECX=00000000 EDX=000806f8\\n' >> "$console"
                  fi
                  exec sleep 600
                fi
                exec /usr/bin/qemu-system-x86_64 "$@"
                """.formatted(mode, runs));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    private DeployOutcome deploy(String name, List<String> progress) throws Exception {
        Manifest.Run d = Manifest.defaults("vmlinux").run();
        Manifest.Run run = new Manifest.Run(
                "qemu",
                List.of(),
                256L << 20,
                1,
                1,
                8080,
                d.drainTimeout(),
                null,
                "blue-green",
                true,
                null,
                null,
                null);
        Manifest.Health health = new Manifest.Health(
                "/", 200, false, null, HEALTH_TIMEOUT, Duration.ofMillis(250), Duration.ofSeconds(1), Duration.ZERO);
        StartRequest request = new StartRequest(
                "app",
                ++release,
                TestVm.build().kernel(),
                TestVm.build().initrd(),
                List.of("--", "--bind", "0.0.0.0", "--name", name),
                Map.of(),
                run,
                health,
                Duration.ofSeconds(5));
        DeployOutcome outcome = DeployStrategy.named("blue-green", agent)
                .run(request, 1, Duration.ofSeconds(5), StagedTest.NONE, progress::add);
        assertThat(outcome).as(String.join("\n", progress)).isInstanceOf(DeployOutcome.Live.class);
        return outcome;
    }

    private HttpResponse<String> get() throws Exception {
        return HttpClient.newBuilder()
                .proxy(java.net.ProxySelector.of(routerAddress))
                .build()
                .send(
                        HttpRequest.newBuilder(URI.create("http://app.localhost/"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
