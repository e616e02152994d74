package io.mayfly.agent.driver.qemu;

import io.mayfly.agent.deploy.GuestKindsContract;
import io.mayfly.agent.driver.Driver;
import io.mayfly.wire.manifest.Manifest;
import org.junit.jupiter.api.BeforeAll;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assumptions.assumeThat;

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

    @Override
    protected List<Driver> drivers(Path dir) {
        return List.of(new QemuDriver(Path.of("/usr/bin/qemu-system-x86_64"), Path.of("/usr/bin/setsid"), dir.resolve("qemu")));
    }

    @Override
    protected Manifest.Run run() {
        Manifest.Run d = Manifest.defaults("vmlinux").run();
        return new Manifest.Run("qemu", List.of(), 256L << 20, 1, 1, 8080, d.drainTimeout(), null, "blue-green", true, null, null, null);
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

    @Override
    protected Duration bootTime() {
        return Duration.ofSeconds(12);
    }

    @Override
    protected int rollbackRounds() {
        return 1;
    }
}
