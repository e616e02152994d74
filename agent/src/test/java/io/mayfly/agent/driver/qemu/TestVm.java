package io.mayfly.agent.driver.qemu;

import io.mayfly.agent.driver.process.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

/**
 * A small VM for tests, built once per test JVM with examples/hello-vm's Makefile: Debian's kernel from /boot as a
 * plain vmlinux, and an initramfs whose /init (hello-vm's) execs testserver.c as its server, passing on the kernel's
 * arguments; so a test picks the guest's behaviour with testserver's flags in [run] args.
 */
public final class TestVm {
    public record Images(Path kernel, Path initrd) {}

    private static Images images;

    private TestVm() {}

    /** Whether this host can build and boot it: QEMU installed and a kernel in /boot. */
    public static boolean possible() throws IOException {
        if (!Files.isExecutable(Path.of("/usr/bin/qemu-system-x86_64")) || !Files.isDirectory(Path.of("/boot")))
            return false;
        try (var kernels = Files.list(Path.of("/boot"))) {
            return kernels.anyMatch(p -> p.getFileName().toString().startsWith("vmlinuz-"));
        }
    }

    public static synchronized Images build() throws IOException, InterruptedException {
        if (images != null) return images;
        Path example = Path.of("..", "examples", "hello-vm").toAbsolutePath().normalize();
        Path dir = Files.createDirectories(Path.of("target", "test-vm").toAbsolutePath());
        Files.copy(example.resolve("Makefile"), dir.resolve("Makefile"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(example.resolve("init.c"), dir.resolve("init.c"), StandardCopyOption.REPLACE_EXISTING);
        try (InputStream in = TestServer.class.getResourceAsStream("testserver.c")) {
            Files.copy(in, dir.resolve("hello.c"), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.deleteIfExists(dir.resolve("initramfs.cpio"));
        Process make = new ProcessBuilder("make", "-s")
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(make.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!make.waitFor(5, TimeUnit.MINUTES) || make.exitValue() != 0) {
            throw new IllegalStateException("make in " + dir + " failed:\n" + output);
        }
        images = new Images(dir.resolve("vmlinux"), dir.resolve("initramfs.cpio"));
        return images;
    }
}
