package io.mayfly.wire.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

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
        Manifest m = Manifest.parse("mayfly.toml", FULL);
        assertThat(m).isNotNull();
        assertFull(m);
    }

    static final String FULL = """
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
                network = false
                request_timeout = "10s"
                response_timeout = "2m"
                idle_timeout = "20s"

                [health]
                path = "/health"
                status = 204
                timeout = "20s"
                interval = "250ms"
                try_timeout = "2s"
                liveness = "45s"

                [test]
                command = "./smoke.sh"
                timeout = "1h"
                """;

    private static void assertFull(Manifest m) throws Exception {
        assertThat(m.build())
                .isEqualTo(new Manifest.Build(
                        "make all",
                        "dist/hello.hvt",
                        "hello.cpio",
                        true,
                        List.of("/boot"),
                        Duration.ofSeconds(90),
                        "daily"));
        assertThat(m.run())
                .isEqualTo(new Manifest.Run(
                        "qemu",
                        List.of("--port", "{port}"),
                        128L << 20,
                        2,
                        0,
                        80,
                        Duration.ofSeconds(5),
                        Duration.ofMinutes(5),
                        "rolling",
                        false,
                        Duration.ofSeconds(10),
                        Duration.ofMinutes(2),
                        Duration.ofSeconds(20)));
        assertThat(m.health())
                .isEqualTo(new Manifest.Health(
                        "/health",
                        204,
                        false,
                        null,
                        Duration.ofSeconds(20),
                        Duration.ofMillis(250),
                        Duration.ofSeconds(2),
                        Duration.ofSeconds(45)));
        assertThat(m.test()).isEqualTo(new Manifest.Test("./smoke.sh", Duration.ofHours(1)));
        // No key is parsed and then dropped: the full manifest sets every key the reader takes (but the health kinds it
        // must choose between), and every field of every table then differs from its default.
        Manifest d = Manifest.defaults(null);
        for (var pair : java.util.List.of(
                java.util.List.<Record>of(m.build(), d.build()),
                java.util.List.<Record>of(m.run(), d.run()),
                java.util.List.<Record>of(m.health(), d.health()),
                java.util.List.<Record>of(m.test(), d.test()))) {
            for (var component : pair.get(0).getClass().getRecordComponents()) {
                if (java.util.List.of("tcp", "console").contains(component.getName()))
                    continue; // the other health kinds
                assertThat(component.getAccessor().invoke(pair.get(0)))
                        .as(component.getName())
                        .isNotEqualTo(component.getAccessor().invoke(pair.get(1)));
            }
        }
        ManifestReader.keys()
                .forEach((table, keys) -> keys.stream()
                        .filter(k -> !java.util.List.of("tcp", "console").contains(k))
                        .forEach(k -> assertThat(java.util.regex.Pattern.compile("(?m)^" + k + " = ")
                                        .matcher(FULL)
                                        .find())
                                .as("[" + table + "] " + k)
                                .isTrue()));
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
        assertThat(Manifest.parse("m", OK_BUILD + "[health]\ntcp = true\n")
                        .health()
                        .path())
                .isNull();
        assertThat(Manifest.parse("m", OK_BUILD + "[health]\nconsole = \"listening on\"\n")
                        .health()
                        .console())
                .isEqualTo("listening on");
    }

    @Test
    void theExamplesParse() throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize().resolve("examples");
        for (String example : List.of("hello", "hello-unhealthy")) {
            Path file = root.resolve(example).resolve("mayfly.toml");
            assertThat(Manifest.parse(file.toString(), Files.readString(file))
                            .build()
                            .artifact())
                    .isEqualTo("hello");
        }
    }

    static Stream<Arguments> badManifests() {
        return Stream.of(
                bad("syntax error", "[build]\ncommand = \"make\nartifact = \"x\"\n", 2, null, "not valid TOML"),
                bad("unknown table", OK_BUILD + "[rnu]\ndriver = \"process\"\n", 4, "rnu", "did you mean 'run'"),
                bad(
                        "unknown key",
                        "[build]\ncomand = \"make\"\nartifact = \"x\"\n",
                        2,
                        "[build] comand",
                        "did you mean 'command'"),
                bad("unknown top-level key", "artifact = \"x\"\n" + OK_BUILD, 1, "artifact", "top-level key"),
                bad(
                        "string where a boolean belongs",
                        OK_BUILD + "network = \"yes\"\n",
                        4,
                        "[build] network",
                        "true or false"),
                bad(
                        "number where a string belongs",
                        "[build]\ncommand = 5\nartifact = \"x\"\n",
                        2,
                        "[build] command",
                        "a string"),
                bad("args not an array", OK_BUILD + "[run]\nargs = \"--port\"\n", 5, "[run] args", "array of strings"),
                bad(
                        "args with a number",
                        OK_BUILD + "[run]\nargs = [\"--port\", 8080]\n",
                        5,
                        "[run] args",
                        "array of strings"),
                bad("bad duration", OK_BUILD + "[health]\ntimeout = \"soon\"\n", 5, "[health] timeout", "duration"),
                bad(
                        "duration without unit",
                        OK_BUILD + "[health]\ntimeout = \"10\"\n",
                        5,
                        "[health] timeout",
                        "duration"),
                bad("duration as a number", OK_BUILD + "[health]\ntimeout = 10\n", 5, "[health] timeout", "duration"),
                bad("bad size", OK_BUILD + "[run]\nmemory = \"lots\"\n", 5, "[run] memory", "size like"),
                bad("negative size", OK_BUILD + "[run]\nmemory = -5\n", 5, "[run] memory", "needs a unit"),
                bad("negative instances", OK_BUILD + "[run]\ninstances = -1\n", 5, "[run] instances", "from 0 to 64"),
                bad(
                        "status out of range",
                        OK_BUILD + "[health]\nstatus = 99\n",
                        5,
                        "[health] status",
                        "from 100 to 599"),
                bad(
                        "port out of range",
                        OK_BUILD + "[run]\nguest_port = 70000\n",
                        5,
                        "[run] guest_port",
                        "from 1 to 65535"),
                bad("zero vcpus", OK_BUILD + "[run]\nvcpus = 0\n", 5, "[run] vcpus", "from 1 to 64"),
                bad(
                        "unknown driver",
                        OK_BUILD + "[run]\ndriver = \"qemuu\"\n",
                        5,
                        "[run] driver",
                        "did you mean 'qemu'"),
                bad(
                        "unknown strategy",
                        OK_BUILD + "[run]\nstrategy = \"canary\"\n",
                        5,
                        "[run] strategy",
                        "blue-green, rolling, immediate"),
                bad("missing artifact", "[build]\ncommand = \"make\"\n", 1, "[build] artifact", "missing"),
                bad(
                        "absolute artifact",
                        "[build]\ncommand = \"make\"\nartifact = \"/etc/passwd\"\n",
                        3,
                        "[build] artifact",
                        "inside the build directory"),
                bad(
                        "artifact escaping the build dir",
                        "[build]\nartifact = \"../x\"\n",
                        2,
                        "[build] artifact",
                        "inside the build directory"),
                bad(
                        "relative host path",
                        OK_BUILD + "host_paths = [\"boot\"]\n",
                        4,
                        "[build] host_paths",
                        "absolute host paths"),
                bad(
                        "health path without slash",
                        OK_BUILD + "[health]\npath = \"health\"\n",
                        5,
                        "[health] path",
                        "starting with \"/\""),
                bad(
                        "bad console regex",
                        OK_BUILD + "[health]\nconsole = \"(unclosed\"\n",
                        5,
                        "[health] console",
                        "regular expression"),
                bad(
                        "two health checks",
                        OK_BUILD + "[health]\npath = \"/\"\ntcp = true\n",
                        4,
                        "[health]",
                        "choose one check"),
                bad("duplicate key", "[build]\nartifact = \"a\"\nartifact = \"b\"\n", 3, null, "not valid TOML"),
                bad("table given as a value", "build = \"make\"\n", 1, "build", "must be a table"),

                // What an attacker sent, and its neighbours: numbers past a long, sizes without a unit, huge durations.
                bad(
                        "instances past 2^64",
                        OK_BUILD + "[run]\ninstances = 18446744073709551617\n",
                        5,
                        "[run] instances",
                        "expected a number from 0 to 64, got 18446744073709551617"),
                bad(
                        "instances just past a long",
                        OK_BUILD + "[run]\ninstances = 9223372036854775808\n",
                        5,
                        "[run] instances",
                        "from 0 to 64"),
                bad(
                        "instances far below",
                        OK_BUILD + "[run]\ninstances = -99999999999999999999999\n",
                        5,
                        "[run] instances",
                        "from 0 to 64"),
                bad(
                        "guest port as hex past an int",
                        OK_BUILD + "[run]\nguest_port = 0x1_0000_0050\n",
                        5,
                        "[run] guest_port",
                        "from 1 to 65535"),
                bad(
                        "status past an int",
                        OK_BUILD + "[health]\nstatus = 4294967496\n",
                        5,
                        "[health] status",
                        "from 100 to 599"),
                bad("vcpus above the range", OK_BUILD + "[run]\nvcpus = 65\n", 5, "[run] vcpus", "from 1 to 64"),
                bad(
                        "a float where a whole number belongs",
                        OK_BUILD + "[run]\ninstances = 1.5\n",
                        5,
                        "[run] instances",
                        "whole number"),
                bad(
                        "infinity where a whole number belongs",
                        OK_BUILD + "[run]\ninstances = inf\n",
                        5,
                        "[run] instances",
                        "whole number"),
                bad(
                        "a date where a string belongs",
                        "[build]\ncommand = 1979-05-27\nartifact = \"x\"\n",
                        2,
                        "[build] command",
                        "a string"),
                bad(
                        "a date-time with hour 47 (found by fuzzing)",
                        OK_BUILD + "[test]\ncommand = 1979-05-27T47:32:00Z\n",
                        5,
                        null,
                        "not valid TOML: \"1979-05-27T47:32:00Z\" is not a date-time: Invalid value for HourOfDay"),
                bad(
                        "memory as a bare number",
                        OK_BUILD + "[run]\nmemory = 64\n",
                        5,
                        "[run] memory",
                        "a size needs a unit: K, M, G or T, with optional i and B, like \"64M\", \"512MiB\" or \"1G\"; a bare number is not taken as bytes, got 64"),
                bad(
                        "memory as a string without a unit",
                        OK_BUILD + "[run]\nmemory = \"64\"\n",
                        5,
                        "[run] memory",
                        "needs a unit"),
                bad(
                        "memory of 2^64 bytes",
                        OK_BUILD + "[run]\nmemory = 18446744073709551616\n",
                        5,
                        "[run] memory",
                        "needs a unit"),
                bad(
                        "memory in terabytes past a long",
                        OK_BUILD + "[run]\nmemory = \"9999999999999T\"\n",
                        5,
                        "[run] memory",
                        "expected a size from 1MiB to 1TiB, got \"9999999999999T\""),
                bad(
                        "memory with more digits than a long",
                        OK_BUILD + "[run]\nmemory = \"99999999999999999999999M\"\n",
                        5,
                        "[run] memory",
                        "from 1MiB to 1TiB"),
                bad(
                        "memory below 1 MiB",
                        OK_BUILD + "[run]\nmemory = \"512K\"\n",
                        5,
                        "[run] memory",
                        "from 1MiB to 1TiB"),
                bad(
                        "memory above 1 TiB",
                        OK_BUILD + "[run]\nmemory = \"2T\"\n",
                        5,
                        "[run] memory",
                        "from 1MiB to 1TiB"),
                bad("memory of zero", OK_BUILD + "[run]\nmemory = \"0M\"\n", 5, "[run] memory", "from 1MiB to 1TiB"),
                bad(
                        "a duration past a long",
                        OK_BUILD + "[health]\ntimeout = \"99999999999999999999s\"\n",
                        5,
                        "[health] timeout",
                        "expected a duration from 10ms to 1h, got \"99999999999999999999s\""),
                bad(
                        "hours past a long of millis",
                        OK_BUILD + "timeout = \"9999999999999999h\"\n",
                        4,
                        "[build] timeout",
                        "from 1s to 24h"),
                bad(
                        "a build timeout of two days",
                        OK_BUILD + "timeout = \"48h\"\n",
                        4,
                        "[build] timeout",
                        "from 1s to 24h"),
                bad(
                        "a health interval below 10ms",
                        OK_BUILD + "[health]\ninterval = \"5ms\"\n",
                        5,
                        "[health] interval",
                        "from 10ms to 1m"),
                bad(
                        "a health interval above a minute",
                        OK_BUILD + "[health]\ninterval = \"1m1s\"\n",
                        5,
                        "[health] interval",
                        "from 10ms to 1m"),
                bad(
                        "a try timeout of an hour",
                        OK_BUILD + "[health]\ntry_timeout = \"1h\"\n",
                        5,
                        "[health] try_timeout",
                        "from 10ms to 1m"),
                bad(
                        "a health timeout of a day",
                        OK_BUILD + "[health]\ntimeout = \"24h\"\n",
                        5,
                        "[health] timeout",
                        "from 10ms to 1h"),
                bad(
                        "a drain of two hours",
                        OK_BUILD + "[run]\ndrain_timeout = \"2h\"\n",
                        5,
                        "[run] drain_timeout",
                        "from 1ms to 1h"),
                bad(
                        "an idle stop below a second",
                        OK_BUILD + "[run]\nidle_stop = \"500ms\"\n",
                        5,
                        "[run] idle_stop",
                        "from 1s to 24h"),
                bad(
                        "an idle stop of a week",
                        OK_BUILD + "[run]\nidle_stop = \"168h\"\n",
                        5,
                        "[run] idle_stop",
                        "from 1s to 24h"),
                bad(
                        "a test timeout of a zero",
                        OK_BUILD + "[test]\ncommand = \"t\"\ntimeout = \"0s\"\n",
                        6,
                        "[test] timeout",
                        "duration like"),
                bad(
                        "a test timeout of 25 hours",
                        OK_BUILD + "[test]\ncommand = \"t\"\ntimeout = \"25h\"\n",
                        6,
                        "[test] timeout",
                        "from 1s to 24h"),

                // Strings that would break what they are put into, or are too long or too many.
                bad(
                        "a health path with CR LF",
                        OK_BUILD + "[health]\npath = \"/health\\r\\nX-Injected: 1\"\n",
                        5,
                        "[health] path",
                        "visible ASCII"),
                bad(
                        "a health path with a space",
                        OK_BUILD + "[health]\npath = \"/he alth\"\n",
                        5,
                        "[health] path",
                        "%20 for a space"),
                bad(
                        "a health path with a tab",
                        OK_BUILD + "[health]\npath = \"/he\\talth\"\n",
                        5,
                        "[health] path",
                        "visible ASCII"),
                bad(
                        "a health path with a NUL",
                        OK_BUILD + "[health]\npath = \"/\\u0000\"\n",
                        5,
                        "[health] path",
                        "NUL"),
                bad(
                        "a health path with non-ASCII",
                        OK_BUILD + "[health]\npath = \"/gr\u00fc\u00dfe\"\n",
                        5,
                        "[health] path",
                        "non-ASCII"),
                bad(
                        "a health path with DEL",
                        OK_BUILD + "[health]\npath = \"/\\u007f\"\n",
                        5,
                        "[health] path",
                        "visible ASCII"),
                bad(
                        "a health path of 1025 characters",
                        OK_BUILD + "[health]\npath = \"/" + "a".repeat(1024) + "\"\n",
                        5,
                        "[health] path",
                        "expected at most 1024 characters, got 1025"),
                bad(
                        "a build command of 4097 characters",
                        "[build]\ncommand = \"" + "m".repeat(4097) + "\"\nartifact = \"x\"\n",
                        2,
                        "[build] command",
                        "at most 4096 characters"),
                bad(
                        "a build command with a NUL",
                        "[build]\ncommand = \"make\\u0000rm\"\nartifact = \"x\"\n",
                        2,
                        "[build] command",
                        "must not contain a NUL"),
                bad(
                        "a test command of 4097 characters",
                        OK_BUILD + "[test]\ncommand = \"" + "t".repeat(4097) + "\"\n",
                        5,
                        "[test] command",
                        "at most 4096 characters"),
                bad(
                        "65 args",
                        OK_BUILD + "[run]\nargs = [" + "\"a\", ".repeat(65) + "]\n",
                        5,
                        "[run] args",
                        "at most 64 entries, got 65"),
                bad(
                        "an arg of 4097 characters",
                        OK_BUILD + "[run]\nargs = [\"" + "a".repeat(4097) + "\"]\n",
                        5,
                        "[run] args",
                        "at most 4096 characters"),
                bad("an arg with a NUL", OK_BUILD + "[run]\nargs = [\"a\\u0000b\"]\n", 5, "[run] args", "NUL"),
                bad(
                        "33 host paths",
                        OK_BUILD + "host_paths = [" + "\"/boot\", ".repeat(33) + "]\n",
                        4,
                        "[build] host_paths",
                        "at most 32 entries, got 33"),
                bad(
                        "a host path with a newline",
                        OK_BUILD + "host_paths = [\"/boot\\n/etc\"]\n",
                        4,
                        "[build] host_paths",
                        "control characters"),
                bad(
                        "an artifact with a newline",
                        "[build]\nartifact = \"hello\\n\"\n",
                        2,
                        "[build] artifact",
                        "inside the build directory"),
                bad(
                        "a console regex of 1025 characters",
                        OK_BUILD + "[health]\nconsole = \"" + "a".repeat(1025) + "\"\n",
                        5,
                        "[health] console",
                        "at most 1024 characters"),
                bad(
                        "a driver of 65 characters",
                        OK_BUILD + "[run]\ndriver = \"" + "q".repeat(65) + "\"\n",
                        5,
                        "[run] driver",
                        "at most 64 characters"),
                bad("a dotted key", "run.memory = 64\n" + OK_BUILD, 1, "[run] memory", "needs a unit"),
                bad(
                        "arrays nested deeper than TOML is read",
                        OK_BUILD + "[run]\nargs = " + "[".repeat(100) + "\n",
                        0,
                        null,
                        "nested more than 32 deep"));
    }

    @Test
    void aManifestOverTheSizeLimitIsRejectedBeforeItIsParsed() {
        String twentyMegabytes = OK_BUILD + "#" + "x".repeat(20 * 1024 * 1024) + "\n";
        ManifestException e =
                catchThrowableOfType(ManifestException.class, () -> Manifest.parse("mayfly.toml", twentyMegabytes));
        assertThat(e).isNotNull();
        assertThat(e.getMessage())
                .startsWith("mayfly.toml: the file is " + (OK_BUILD.length() + 2 + 20 * 1024 * 1024) + " bytes")
                .contains("at most 65536 bytes (64 KiB)");
        assertThat(e.key()).isNull();
    }

    @Test
    void theSizeLimitCountsUtf8BytesAndAllowsExactly64KiB() throws Exception {
        String head = OK_BUILD + "#";
        String exactly = head + "x".repeat(Manifest.MAX_BYTES - head.length() - 1) + "\n";
        assertThat(exactly.getBytes(java.nio.charset.StandardCharsets.UTF_8)).hasSize(Manifest.MAX_BYTES);
        assertThat(Manifest.parse("mayfly.toml", exactly).build().artifact()).isEqualTo("hello");

        // The same number of characters, one of them two bytes long in UTF-8: one byte too many.
        String oneByteOver = head + "\u00e9" + "x".repeat(Manifest.MAX_BYTES - head.length() - 2) + "\n";
        assertThat(oneByteOver).hasSize(Manifest.MAX_BYTES);
        assertThat(catchThrowableOfType(ManifestException.class, () -> Manifest.parse("mayfly.toml", oneByteOver)))
                .hasMessageContaining("the file is 65537 bytes");
    }

    @Test
    void theBoundsOfEveryRangeAreAccepted() throws Exception {
        Manifest low = Manifest.parse("mayfly.toml", OK_BUILD + """
                timeout = "1s"
                [run]
                memory = "1MiB"
                vcpus = 1
                instances = 0
                guest_port = 1
                drain_timeout = "1ms"
                idle_stop = "1s"
                [health]
                status = 100
                timeout = "10ms"
                interval = "10ms"
                try_timeout = "10ms"
                [test]
                timeout = "1s"
                """);
        assertThat(low.run().memoryBytes()).isEqualTo(1L << 20);
        assertThat(low.health().interval()).isEqualTo(Duration.ofMillis(10));
        Manifest high = Manifest.parse("mayfly.toml", OK_BUILD + """
                timeout = "24h"
                [run]
                memory = "1T"
                vcpus = 64
                instances = 64
                guest_port = 65535
                drain_timeout = "1h"
                idle_stop = "23h60m"
                [health]
                status = 599
                timeout = "60m"
                interval = "59s1000ms"
                try_timeout = "1m"
                [test]
                timeout = "24h"
                """);
        assertThat(high.run().memoryBytes()).isEqualTo(1L << 40);
        assertThat(high.run().idleStop()).isEqualTo(Duration.ofHours(24));
        assertThat(high.health().interval()).isEqualTo(Duration.ofMinutes(1));
        assertThat(high.build().timeout()).isEqualTo(Duration.ofHours(24));
    }

    @Test
    void sizesTakeEveryUnitSpelling() throws Exception {
        for (String spelling : List.of("64M", "64m", "64MB", "64MiB", "64mib", "64 M", "65536K", "65536KiB")) {
            assertThat(Manifest.parse("m", OK_BUILD + "[run]\nmemory = \"" + spelling + "\"\n")
                            .run()
                            .memoryBytes())
                    .as(spelling)
                    .isEqualTo(64L << 20);
        }
        assertThat(Manifest.parse("m", OK_BUILD + "[run]\nmemory = \"1G\"\n")
                        .run()
                        .memoryBytes())
                .isEqualTo(1L << 30);
    }

    @Test
    void aMessageNeverCarriesTheControlCharactersItQuotes() {
        // A newline in a message would start a forged line in the push's remote: output.
        ManifestException e = catchThrowableOfType(
                ManifestException.class,
                () -> Manifest.parse(
                        "mayfly.toml", OK_BUILD + "[run]\ndriver = \"qemu\\r\\nremote: Deployed!\\u001b[2J\"\n"));
        assertThat(e.getMessage())
                .contains("[run] driver")
                .contains("qemu\\u000d\\u000aremote: Deployed!\\u001b[2J")
                .doesNotContain("\r")
                .doesNotContain("\n")
                .doesNotContain("\u001b");
        ManifestException unknown = catchThrowableOfType(
                ManifestException.class, () -> Manifest.parse("mayfly.toml", OK_BUILD + "\"a\\nb\" = 1\n"));
        assertThat(unknown.getMessage()).doesNotContain("\n").contains("a\\u000ab");
    }

    private static Arguments bad(String what, String toml, int line, String key, String fragment) {
        return Arguments.of(what, toml, line, key, fragment);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badManifests")
    void aBadManifestIsRejectedWithFileLineKeyAndWhatWasExpected(
            String what, String toml, int line, String key, String fragment) {
        ManifestException e = catchThrowableOfType(ManifestException.class, () -> Manifest.parse("mayfly.toml", toml));
        assertThat(e).as(what + " must be rejected").isNotNull();
        assertThat(e.file()).isEqualTo("mayfly.toml");
        assertThat(e.line()).as(what + ": " + e.getMessage()).isEqualTo(line);
        assertThat(e.key()).as(what + ": " + e.getMessage()).isEqualTo(key);
        assertThat(e.getMessage())
                .startsWith("mayfly.toml" + (line > 0 ? ":" + line : "") + ": ")
                .contains(fragment)
                .doesNotContain("\n")
                .doesNotContain("\r");
    }
}
