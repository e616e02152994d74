package io.mayfly.agent.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmHostTest {
    @TempDir
    Path dir;

    @Test
    void kvmMustExist() throws Exception {
        Path root = StandIns.host(dir);
        assertThat(VmHost.kvmProblem(root)).isEmpty();
        Files.delete(root.resolve("dev/kvm"));
        assertThat(VmHost.kvmProblem(root))
                .hasValueSatisfying(p -> assertThat(p).contains("dev/kvm does not exist", "kvm_intel"));
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
                .hasMessage("the artifact of hello v3 is missing: " + dir.resolve("gone.hvt")
                        + " is not a file; push the app again to rebuild it");
    }

    @Test
    void aLineIsAppendedToTheInstanceLogAndACourtesyLineThatCannotBeWrittenIsLeftOut() throws Exception {
        Path log = dir.resolve("hello-v3-aaaa/console.log");
        VmHost.log(log, "starting hello-v3-aaaa");
        VmHost.note(log, "hello-v3-aaaa is on tap mf4000");
        assertThat(Files.readAllLines(log))
                .containsExactly("mayfly: starting hello-v3-aaaa", "mayfly: hello-v3-aaaa is on tap mf4000");

        Path underAFile = Files.writeString(dir.resolve("not-a-directory"), "").resolve("console.log");
        VmHost.note(underAFile, "lost");
        assertThatThrownBy(() -> VmHost.log(underAFile, "lost")).isInstanceOf(IOException.class);
    }

    private InstanceSpec spec(long memory) {
        return new InstanceSpec(
                "hello-v3-aaaa",
                "hello",
                3,
                dir.resolve("k"),
                null,
                List.of(),
                Map.of(),
                memory,
                4000,
                8080,
                dir.resolve("console.log"),
                dir,
                Duration.ofSeconds(1),
                1,
                true);
    }
}
