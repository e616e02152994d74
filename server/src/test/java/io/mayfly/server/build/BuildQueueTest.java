package io.mayfly.server.build;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which files a build worker may upload into a build's checkout: those the build must leave, nothing else. */
class BuildQueueTest {
    @Test
    void aWorkerUploadsTheNamedOutputsAndTheFilesDirectlyInANamedDirectory() {
        List<String> outputs = List.of("hello", "initramfs.cpio", "dist/");
        assertThat(BuildQueue.isOutput(outputs, "hello")).isTrue();
        assertThat(BuildQueue.isOutput(outputs, "initramfs.cpio")).isTrue();
        assertThat(BuildQueue.isOutput(outputs, "dist/hello.hvt")).isTrue();
        assertThat(BuildQueue.isOutput(outputs, "dist/")).isFalse();
        assertThat(BuildQueue.isOutput(outputs, "dist/sub/x")).isFalse();
        assertThat(BuildQueue.isOutput(outputs, "Makefile")).isFalse();
        assertThat(BuildQueue.isOutput(outputs, "hello2")).isFalse();
    }
}
