package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** examples/hello-vm: a real VM under QEMU (TCG here), pushed, switched without a failed request, and re-adopted. */
class VmTest {
    @TempDir
    Path tmp;

    @Test
    void aPushedVmServesThroughTheRouterIsReplacedWithoutAFailedRequestAndSurvivesAServerRestart() throws Exception {
        assumeThat(Path.of("/usr/bin/qemu-system-x86_64")).as("QEMU installed").exists();
        try (Stream<Path> kernels = Files.list(Path.of("/boot"))) {
            assumeThat(kernels.anyMatch(p -> p.getFileName().toString().startsWith("vmlinuz-")))
                    .as("a kernel in /boot")
                    .isTrue();
        }
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            mayfly.cli("apps:create", "vm");
            Path repo = MayflyProcess.checkoutExample("hello-vm", tmp.resolve("vm"));
            MayflyProcess.setVersion(repo, "vm-1");
            MayflyProcess.Result first = mayfly.push(repo, "vm", "v1");
            assertThat(first.exit()).as(first.out()).isZero();
            assertThat(mayfly.visit("vm", "/").body()).contains("vm-1");
            assertThat(mayfly.cli("ps", "-a", "vm").out()).contains("qemu", "serving");
            // The accelerator verdict comes from the VM the push booted (this machine's /dev/kvm hangs a guest: it was
            // booted again under TCG), with the image it was learnt on; --reprobe forgets it, and the next push learns
            // it again.
            String drivers = mayfly.cli("drivers").out();
            assertThat(drivers)
                    .containsPattern("qemu +yes +1 +(KVM|TCG)")
                    .containsPattern("process +yes +0")
                    .contains("solo5-hvt", "solo5-spt", "xen", "firecracker");
            boolean kvmDevice = Files.isWritable(Path.of("/dev/kvm"));
            if (!kvmDevice) assertThat(drivers).contains("TCG (software emulation)");
            else
                assertThat(drivers)
                        .containsPattern(
                                "KVM \\(vm v1's image \\(sha256 [0-9a-f]{12}\\.\\.\\., \\d+ bytes\\) ran under it"
                                        + "|TCG \\(software emulation\\): KVM failed vm v1's image \\(sha256 [0-9a-f]{12}\\.\\.\\., \\d+ bytes\\) at ");
            if (drivers.contains("TCG (software emulation)")) {
                // A VM under emulation takes seconds to pass its check: the push shows what its console printed
                // meanwhile.
                assertThat(first.out()).contains("console: ");
            }
            if (kvmDevice) {
                MayflyProcess.Result reprobe = mayfly.cli("drivers", "--reprobe");
                assertThat(reprobe.exit()).as(reprobe.out()).isZero();
                assertThat(reprobe.out())
                        .contains("qemu on ", "forgot what it learnt", "KVM not proven here yet")
                        .containsPattern("qemu +yes +1 +KVM not proven here yet");
            }

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger requests = new AtomicInteger();
            List<String> failures = new CopyOnWriteArrayList<>();
            Thread client = Thread.ofPlatform().start(() -> {
                while (running.get() && requests.incrementAndGet() < 50_000) {
                    try {
                        HttpResponse<String> r = mayfly.visit("vm", "/");
                        if (r.statusCode() != 200) failures.add(r.statusCode() + ": " + r.body());
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
            });
            MayflyProcess.setVersion(repo, "vm-2");
            MayflyProcess.Result second = mayfly.push(repo, "vm", "v2");
            assertThat(second.exit()).as(second.out()).isZero();
            if (kvmDevice) assertThat(mayfly.cli("drivers").out()).doesNotContain("KVM not proven here yet");

            // An image that never answers its health check: the push fails, the running VM keeps serving.
            Files.writeString(
                    repo.resolve("mayfly.toml"),
                    Files.readString(repo.resolve("mayfly.toml"))
                            .replace("path = \"/health\"", "path = \"/not-there\"")
                            .replace("timeout = \"60s\"", "timeout = \"20s\""));
            MayflyProcess.setVersion(repo, "vm-3");
            MayflyProcess.Result sick = mayfly.push(repo, "vm", "sick");
            assertThat(sick.exit()).isNotZero();
            assertThat(sick.out()).contains("health check failed", "v2 is still serving");
            running.set(false);
            client.join();
            assertThat(failures).as("failed requests out of " + requests.get()).isEmpty();
            assertThat(mayfly.visit("vm", "/").body()).contains("vm-2");

            // The server dies; the VM does not. After the restart it is re-adopted, not rebooted.
            Views.InstanceView vm = serving(mayfly);
            mayfly.kill();
            mayfly.start();
            mayfly.awaitServing("vm", "vm-2", Duration.ofSeconds(30));
            Views.InstanceView adopted = serving(mayfly);
            assertThat(adopted.id()).isEqualTo(vm.id());
            assertThat(adopted.pid()).isEqualTo(vm.pid());
            String console = Files.readString(
                    mayfly.data.resolve("agent/instances").resolve(vm.id()).resolve("console.log"));
            assertThat(console.split("starting hello on :8080", -1))
                    .as("one boot in the console")
                    .hasSize(2);
        }
    }

    private static Views.InstanceView serving(MayflyProcess mayfly) throws Exception {
        return List.of(Json.read(
                        mayfly.api("GET", "/api/v1/apps/vm/instances", null).body(), Views.InstanceView[].class))
                .stream()
                .filter(i -> i.state().startsWith("serving"))
                .findFirst()
                .orElseThrow();
    }
}
