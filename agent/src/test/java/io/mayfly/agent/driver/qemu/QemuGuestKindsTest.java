package io.mayfly.agent.driver.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.mayfly.agent.deploy.GuestKindsContract;
import io.mayfly.agent.driver.Driver;
import io.mayfly.wire.manifest.Manifest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;

/**
 * The guest kinds on the QEMU driver under software emulation (TCG): a Linux VM whose /init runs testserver on port
 * 8080, reached through QEMU's user-mode network. Its TCP check asks QEMU whether the guest accepted.
 */
class QemuGuestKindsTest extends GuestKindsContract {
    @BeforeAll
    static void vm() throws Exception {
        assumeThat(TestVm.possible()).as("QEMU and a kernel in /boot").isTrue();
        TestVm.build();
    }

    /** One state directory for the class: what the driver learns about KVM here is learnt once, not once a test. */
    private static Path qemuState;

    @Override
    protected List<Driver> drivers(Path dir) throws Exception {
        synchronized (QemuGuestKindsTest.class) {
            if (qemuState == null) qemuState = java.nio.file.Files.createTempDirectory("mayfly-qemu-state");
        }
        return List.of(new QemuDriver(Path.of("/usr/bin/qemu-system-x86_64"), Path.of("/usr/bin/setsid"), qemuState));
    }

    /** A guest that never listens costs a whole health timeout a push: once is enough, the check does not race. */
    @Override
    protected int neverListensPushes() {
        return 1;
    }

    @Override
    protected Manifest.Run run() {
        Manifest.Run d = Manifest.defaults("vmlinux").run();
        return new Manifest.Run(
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
    }

    @Override
    protected Path artifact() throws Exception {
        return TestVm.build().kernel();
    }

    @Override
    protected Path initrd() throws Exception {
        return TestVm.build().initrd();
    }

    /**
     * The kernel's command line ends with "--", so that the rest reaches init (and the server) as it is: the kernel
     * would take some of testserver's flags for its own. init gives the server --port 8080; it must listen on the
     * guest's address, not its loopback.
     */
    @Override
    protected List<String> serving() {
        return List.of("--", "--bind", "0.0.0.0");
    }

    @Override
    protected List<String> quiet() {
        return List.of("--");
    }

    /** Each push boots a VM for seconds: fewer of them, still more than a one-in-three race survives (0.67^6 < 9%). */
    @Override
    protected int pushes() {
        return 6;
    }

    /**
     * A guest's connection to 10.0.2.2, which QEMU's user-mode network takes to the loopback of QEMU's namespace, does
     * not reach the host's loopback (the API, the router, other instances): QEMU runs in a network namespace of its own.
     */
    @org.junit.jupiter.api.Test
    void aGuestCannotReachTheHostsLoopback() throws Exception {
        try (java.net.ServerSocket api = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
            String port = Integer.toString(api.getLocalPort());
            Manifest.Health health = new Manifest.Health(
                    "/",
                    200,
                    false,
                    null,
                    bootTime().plusSeconds(10),
                    Duration.ofMillis(50),
                    Duration.ofSeconds(1),
                    Duration.ZERO);
            io.mayfly.agent.deploy.DeployOutcome outcome =
                    deploy(health, List.of("--", "--bind", "0.0.0.0", "--connect-host", "10.0.2.2", "--connect", port));
            assertThat(outcome).isInstanceOf(io.mayfly.agent.deploy.DeployOutcome.Live.class);
            assertThat(console()).contains("connect " + port + " failed").doesNotContain("connect " + port + " ok");
        }
    }

    @Override
    protected Duration bootTime() {
        return Duration.ofSeconds(10);
    }

    @Override
    protected int rollbackRounds() {
        return 1;
    }
}
