package io.mayfly.wire.manifest;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ManifestTest {
    private static final String OK_BUILD = "[build]\ncommand = \"make\"\nartifact = \"hello\"\n";

    @Test
    void aMirageOsProjectNeedsNeitherCommandNorArtifact() throws Exception {
        Manifest m = Manifest.parse("mayfly.toml", "[run]\ndriver = \"solo5-hvt\"\n");
        assertThat(m.build().command()).isNull();
        assertThat(m.build().artifact()).as("found in dist/ after the build").isNull();
    }

    @Test
    void aFullManifestParsesToItsValues() throws Exception {
        Manifest m = Manifest.parse("mayfly.toml", """
                [build]
                command = "make all"
                artifact = "dist/hello.hvt"
                initrd = "hello.cpio"
                network = true
                host_paths = ["/boot"]
                timeout = "1m30s"
                schedule = "daily"

                [run]
                driver = "qemu"
                args = ["--port", "{port}"]
                memory = "128MiB"
                vcpus = 2
                instances = 0
                guest_port = 80
                drain_timeout = "5s"
                idle_stop = "5m"
                strategy = "rolling"

                [health]
                path = "/health"
                status = 204
                timeout = "20s"
                interval = "250ms"
                try_timeout = "2s"

                [test]
                command = "./smoke.sh"
                timeout = "1h"
                """);
        assertThat(m.build()).isEqualTo(new Manifest.Build("make all", "dist/hello.hvt", "hello.cpio", true, List.of("/boot"),
                Duration.ofSeconds(90), "daily"));
        assertThat(m.run()).isEqualTo(new Manifest.Run("qemu", List.of("--port", "{port}"), 128L << 20, 2, 0, 80,
                Duration.ofSeconds(5), Duration.ofMinutes(5), "rolling"));
        assertThat(m.health()).isEqualTo(new Manifest.Health("/health", 204, false, null, Duration.ofSeconds(20),
                Duration.ofMillis(250), Duration.ofSeconds(2)));
        assertThat(m.test()).isEqualTo(new Manifest.Test("./smoke.sh", Duration.ofHours(1)));
    }

    @Test
    void aMinimalManifestGetsTheDefaults() throws Exception {
        Manifest m = Manifest.parse("mayfly.toml", "[build]\nartifact = \"hello\"\n");
        assertThat(m).isEqualTo(Manifest.defaults("hello"));
        assertThat(m.run().memoryBytes()).isEqualTo(64L << 20);
        assertThat(m.health().path()).isEqualTo("/");
    }

    @Test
    void tcpOrConsoleHealthChecksNeedNoPath() throws Exception {
        assertThat(Manifest.parse("m", OK_BUILD + "[health]\ntcp = true\n").health().path()).isNull();
        assertThat(Manifest.parse("m", OK_BUILD + "[health]\nconsole = \"listening on\"\n").health().console()).isEqualTo("listening on");
    }

    @Test
    void theExamplesParse() throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize().resolve("examples");
        for (String example : List.of("hello", "hello-unhealthy")) {
            Path file = root.resolve(example).resolve("mayfly.toml");
            assertThat(Manifest.parse(file.toString(), Files.readString(file)).build().artifact()).isEqualTo("hello");
        }
    }

    static Stream<Arguments> badManifests() {
        return Stream.of(
                bad("syntax error", "[build]\ncommand = \"make\nartifact = \"x\"\n", 2, null, "not valid TOML"),
                bad("unknown table", OK_BUILD + "[rnu]\ndriver = \"process\"\n", 4, "rnu", "did you mean 'run'"),
                bad("unknown key", "[build]\ncomand = \"make\"\nartifact = \"x\"\n", 2, "[build] comand", "did you mean 'command'"),
                bad("unknown top-level key", "artifact = \"x\"\n" + OK_BUILD, 1, "artifact", "top-level key"),
                bad("string where a boolean belongs", OK_BUILD + "network = \"yes\"\n", 4, "[build] network", "true or false"),
                bad("number where a string belongs", "[build]\ncommand = 5\nartifact = \"x\"\n", 2, "[build] command", "a string"),
                bad("args not an array", OK_BUILD + "[run]\nargs = \"--port\"\n", 5, "[run] args", "array of strings"),
                bad("args with a number", OK_BUILD + "[run]\nargs = [\"--port\", 8080]\n", 5, "[run] args", "array of strings"),
                bad("bad duration", OK_BUILD + "[health]\ntimeout = \"soon\"\n", 5, "[health] timeout", "duration"),
                bad("duration without unit", OK_BUILD + "[health]\ntimeout = \"10\"\n", 5, "[health] timeout", "duration"),
                bad("duration as a number", OK_BUILD + "[health]\ntimeout = 10\n", 5, "[health] timeout", "duration"),
                bad("bad size", OK_BUILD + "[run]\nmemory = \"lots\"\n", 5, "[run] memory", "size like"),
                bad("negative size", OK_BUILD + "[run]\nmemory = -5\n", 5, "[run] memory", "positive size"),
                bad("negative instances", OK_BUILD + "[run]\ninstances = -1\n", 5, "[run] instances", "from 0 to 64"),
                bad("status out of range", OK_BUILD + "[health]\nstatus = 99\n", 5, "[health] status", "from 100 to 599"),
                bad("port out of range", OK_BUILD + "[run]\nguest_port = 70000\n", 5, "[run] guest_port", "from 1 to 65535"),
                bad("zero vcpus", OK_BUILD + "[run]\nvcpus = 0\n", 5, "[run] vcpus", "from 1 to 64"),
                bad("unknown driver", OK_BUILD + "[run]\ndriver = \"qemuu\"\n", 5, "[run] driver", "did you mean 'qemu'"),
                bad("unknown strategy", OK_BUILD + "[run]\nstrategy = \"canary\"\n", 5, "[run] strategy", "blue-green, rolling, immediate"),
                bad("missing artifact", "[build]\ncommand = \"make\"\n", 1, "[build] artifact", "missing"),
                bad("absolute artifact", "[build]\ncommand = \"make\"\nartifact = \"/etc/passwd\"\n", 3, "[build] artifact", "inside the build directory"),
                bad("artifact escaping the build dir", "[build]\nartifact = \"../x\"\n", 2, "[build] artifact", "inside the build directory"),
                bad("relative host path", OK_BUILD + "host_paths = [\"boot\"]\n", 4, "[build] host_paths", "absolute host paths"),
                bad("health path without slash", OK_BUILD + "[health]\npath = \"health\"\n", 5, "[health] path", "starting with \"/\""),
                bad("bad console regex", OK_BUILD + "[health]\nconsole = \"(unclosed\"\n", 5, "[health] console", "regular expression"),
                bad("two health checks", OK_BUILD + "[health]\npath = \"/\"\ntcp = true\n", 4, "[health]", "choose one check"),
                bad("duplicate key", "[build]\nartifact = \"a\"\nartifact = \"b\"\n", 3, null, "not valid TOML"),
                bad("table given as a value", "build = \"make\"\n", 1, "build", "must be a table"));
    }

    private static Arguments bad(String what, String toml, int line, String key, String fragment) {
        return Arguments.of(what, toml, line, key, fragment);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badManifests")
    void aBadManifestIsRejectedWithFileLineKeyAndWhatWasExpected(String what, String toml, int line, String key, String fragment) {
        ManifestException e = catchThrowableOfType(ManifestException.class, () -> Manifest.parse("mayfly.toml", toml));
        assertThat(e).as(what + " must be rejected").isNotNull();
        assertThat(e.file()).isEqualTo("mayfly.toml");
        assertThat(e.line()).as(what + ": " + e.getMessage()).isEqualTo(line);
        assertThat(e.key()).as(what + ": " + e.getMessage()).isEqualTo(key);
        assertThat(e.getMessage()).startsWith("mayfly.toml" + (line > 0 ? ":" + line : "") + ": ").contains(fragment);
    }
}
