package io.mayfly.agent.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrivateDiskTest {
    @TempDir
    Path dir;

    @Test
    void theGuestWritesToItsOwnCopyInTheInstanceDirectoryNeverToTheStoredImage() throws Exception {
        Path stored = Files.writeString(dir.resolve("blobs-sha256-ab12"), "stored, content-addressed bytes");
        InstanceSpec spec = spec(dir.resolve("instances/hello-v3-aaaa"));

        Path copy = PrivateDisk.copy(stored, "rootfs", spec);
        Files.writeString(copy, "written by the guest");

        assertThat(copy).isEqualTo(spec.stateDir().toAbsolutePath().resolve("rootfs.img"));
        assertThat(Files.readString(stored)).isEqualTo("stored, content-addressed bytes");
        assertThat(Files.readString(PrivateDisk.copy(stored, "rootfs", spec)))
                .as("a new start gets a fresh copy")
                .isEqualTo("stored, content-addressed bytes");
    }

    @Test
    void aCopyThatCannotBeMadeSaysWhatWhereAndForWhichInstance() throws Exception {
        Path stored = Files.writeString(dir.resolve("disk"), "bytes");
        Path notADirectory =
                Files.writeString(dir.resolve("instance"), "a file where the instance directory should be");
        InstanceSpec spec = spec(notADirectory);

        assertThatThrownBy(() -> PrivateDisk.copy(stored, "disk", spec))
                .isInstanceOf(DriverException.class)
                .hasMessageStartingWith("cannot copy " + stored + " to " + notADirectory.resolve("disk.img")
                        + " as the block device 'disk' of hello-v3-aaaa: ");
    }

    private InstanceSpec spec(Path stateDir) {
        return new InstanceSpec(
                "hello-v3-aaaa",
                "hello",
                3,
                dir.resolve("k"),
                null,
                List.of(),
                Map.of(),
                64L << 20,
                4000,
                8080,
                dir.resolve("console.log"),
                stateDir,
                Duration.ofSeconds(1),
                1,
                true);
    }
}
