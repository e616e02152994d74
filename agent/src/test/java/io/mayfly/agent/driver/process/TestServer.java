package io.mayfly.agent.driver.process;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Builds testserver.c (a stand-in unikernel: a static HTTP server whose behaviour is chosen by flags) once per test JVM. */
public final class TestServer {
    private static Path binary;

    private TestServer() {}

    /** {@link #binary()}, for a lambda or a helper that declares no exception. */
    public static Path binaryUnchecked() {
        try {
            return binary();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static synchronized Path binary() throws IOException, InterruptedException {
        if (binary != null) {
            return binary;
        }
        Path dir = Files.createDirectories(Path.of("target", "test-native").toAbsolutePath());
        Path source = dir.resolve("testserver.c");
        try (InputStream in = TestServer.class.getResourceAsStream("testserver.c")) {
            Files.copy(in, source, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Path out = dir.resolve("testserver");
        Process gcc = new ProcessBuilder("gcc", "-O2", "-static", "-Wall", "-o", out.toString(), source.toString())
                .redirectErrorStream(true)
                .start();
        String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!gcc.waitFor(60, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
            throw new IllegalStateException("gcc could not build " + source + ":\n" + output);
        }
        binary = out;
        return out;
    }
}
