package io.mayfly.agent.driver;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VmHostTest {
    @TempDir
    Path dir;

    @Test
    void kvmMustExist() throws Exception {
        Path root = StandIns.host(dir);
        assertThat(VmHost.kvmProblem(root)).isEmpty();
        Files.delete(root.resolve("dev/kvm"));
        assertThat(VmHost.kvmProblem(root)).hasValueSatisfying(p -> assertThat(p).contains("dev/kvm does not exist", "kvm_intel"));
    }

    @Test
    void memoryIsWholeMibAndAtLeastSixteen() {
        assertThat(VmHost.memoryMib(spec((64L << 20) + 5))).isEqualTo(64);
        assertThat(VmHost.memoryMib(spec(1L << 20))).isEqualTo(16);
    }

    @Test
    void aMissingFileNamesTheAppTheRoleAndTheRemedy() {
        InstanceSpec spec = spec(64L << 20);
        assertThatThrownBy(() -> VmHost.existing(dir.resolve("gone.hvt"), "artifact", spec))
                .isInstanceOf(DriverException.class)
                .hasMessage("the artifact of hello v3 is missing: " + dir.resolve("gone.hvt") + " is not a file; push the app again to rebuild it");
    }

    private InstanceSpec spec(long memory) {
        return new InstanceSpec("hello-v3-aaaa", "hello", 3, dir.resolve("k"), null, List.of(), Map.of(), memory, 4000, 8080,
                dir.resolve("console.log"), dir, Duration.ofSeconds(1), 1);
    }
}
