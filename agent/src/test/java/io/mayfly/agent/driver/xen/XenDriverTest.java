package io.mayfly.agent.driver.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.driver.StandIns;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Xen is not available where Mayfly is developed: these tests run the driver against a stand-in xl ({@link #STAND_IN_XL}). */
class XenDriverTest {
    /**
     * Stand-in for Xen's xl, used by these tests and by {@link StandInXenGuestKindsTest}. Each call goes to $0.calls.
     * A domain is a guest process with a keeper that waits for it: the kernel itself when it is a program, run with
     * the config's extra line as its arguments, else a sleep; its output is the domain's console, a file. The file
     * $0.domains/NAME holds the guest's pid while the domain exists; the keeper removes it when the guest ends (a
     * guest's crash or poweroff destroys its domain). What the driver uses, with xl's conventions: list [NAME] (exit
     * 1, "NAME is an invalid domain identifier", for an unknown domain), create [-q] [-p] CONFIG (reads name, kernel
     * and extra from the config, copies it to $0.NAME.cfg; -p leaves the guest stopped; fails on a name that is
     * taken), unpause NAME, console NAME (prints what the guest printed, all of it on the first attach as
     * xenconsoled's pty holds it until a client reads, only what is new on a later one, and ends once the domain is
     * gone, after its last lines), shutdown [-w] NAME (SIGTERM to the guest; a guest whose extra line says
     * ignore-shutdown never shuts down, so -w waits forever) and destroy NAME (SIGKILL).
     */
    static final String STAND_IN_XL = """
            #!/bin/sh
            set -f
            d="$0.domains"; mkdir -p "$d"
            echo "$*" >> "$0.calls"
            running() { [ -f "$d/$1" ]; }
            invalid() { echo "$1 is an invalid domain identifier (rc=-6)" >&2; exit 1; }
            setting() { sed -n "s/^$1 = \\"\\(.*\\)\\"\\$/\\1/p" "$2"; }
            cmd=$1; shift
            case "$cmd" in
              list)
                echo "Name                                        ID   Mem VCPUs      State   Time(s)"
                echo "Domain-0                                     0  1024     2     r-----      12.0"
                [ $# -eq 0 ] && exit 0
                running "$1" || invalid "$1"
                exit 0 ;;
              create)
                [ "$1" = -q ] && shift
                paused=; [ "$1" = -p ] && { paused=1; shift; }
                [ -f "$1" ] || { echo "Failed to read config file: $1: No such file or directory" >&2; exit 1; }
                name=$(setting name "$1"); kernel=$(setting kernel "$1"); extra=$(setting extra "$1")
                running "$name" && { echo "libxl: error: domain with name \\"$name\\" already exists" >&2; exit 3; }
                cp "$1" "$0.$name.cfg"
                rm -f "$d/$name.attached" "$d/$name.stubborn"; : > "$d/$name.console"
                case "$extra" in *ignore-shutdown*) touch "$d/$name.stubborn" ;; esac
                (
                  if [ -x "$kernel" ]; then set -- "$kernel" $extra; else set -- sleep 300; fi
                  [ -n "$paused" ] && set -- sh -c 'kill -STOP $$; exec "$@"' paused "$@"
                  "$@" >> "$d/$name.console" 2>&1 &
                  guest=$!
                  echo $guest > "$d/$name.new"; mv "$d/$name.new" "$d/$name"
                  wait $guest
                  [ "$(cat "$d/$name" 2>/dev/null)" = "$guest" ] && rm -f "$d/$name"
                ) </dev/null >/dev/null 2>&1 &
                while ! running "$name"; do sleep 0.01; done
                if [ -n "$paused" ]; then
                  pid=$(cat "$d/$name")
                  while [ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -c1)" != T ]; do sleep 0.01; done
                fi
                exit 0 ;;
              unpause)
                running "$1" || invalid "$1"
                kill -CONT "$(cat "$d/$1")"; exit 0 ;;
              console)
                running "$1" || invalid "$1"
                if [ -e "$d/$1.attached" ]; then from=0; else from=+1; fi
                touch "$d/$1.attached"
                t=; trap '[ -n "$t" ] && kill $t 2>/dev/null; exit 0' TERM
                tail -n "$from" -s 0.1 -f "$d/$1.console" &
                t=$!
                while running "$1"; do sleep 0.1; done
                sleep 0.2
                kill $t 2>/dev/null; wait $t
                exit 0 ;;
              shutdown)
                [ "$1" = -w ] && { wait=1; shift; }
                running "$1" || invalid "$1"
                if [ -e "$d/$1.stubborn" ]; then
                  [ -n "$wait" ] && while running "$1"; do sleep 0.1; done
                  exit 0
                fi
                kill "$(cat "$d/$1")"
                [ -n "$wait" ] && while running "$1"; do sleep 0.05; done
                exit 0 ;;
              destroy)
                running "$1" || invalid "$1"
                pid=$(cat "$d/$1"); rm -f "$d/$1" "$d/$1.stubborn"; kill -KILL "$pid"; exit 0 ;;
              *) echo "stand-in xl: no command $cmd" >&2; exit 1 ;;
            esac
            """;

    @TempDir
    Path dir;

    private Path xl;
    private Path kernel;
    private final List<InstanceHandle> started = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        xl = StandIns.script(dir, "xl", STAND_IN_XL);
        kernel = Files.writeString(dir.resolve("hello.xen"), "\u007fELF stand-in PVH kernel");
    }

    @AfterEach
    void stopEverything() {
        started.forEach(h -> h.stop(Duration.ZERO));
    }

    @Test
    void aMissingXlIsUnavailableWithHowToInstallXen() {
        XenDriver missing = new XenDriver(null, "xenbr0");

        assertThat(missing.name()).isEqualTo("xen");
        assertThat(missing.availability().available()).isFalse();
        assertThat(missing.availability().detail()).contains("xl not found", "apt-get install xen-system-amd64");
        assertThatThrownBy(() -> missing.start(spec("hello-v3-none", null)))
                .isInstanceOf(DriverException.class)
                .hasMessageContaining("xl not found");
    }

    @Test
    void anXlThatCannotReachXenIsUnavailableWithItsOwnWords() throws Exception {
        Path broken = StandIns.script(dir.resolve("not-dom0"), "xl", """
                #!/bin/sh
                echo "xencall: error: Could not obtain handle on privileged command interface: No such file or directory" >&2
                exit 1
                """);

        XenDriver driver = new XenDriver(broken, "xenbr0");

        assertThat(driver.availability().available()).isFalse();
        assertThat(driver.availability().detail())
                .contains("Could not obtain handle on privileged command interface", "dom0");
        assertThat(new XenDriver(xl, "xenbr0").availability().available()).isTrue();
    }

    @Test
    void startWritesTheDomainConfigAndCreatesTheDomainWithIt() throws Exception {
        Path initrd = Files.writeString(dir.resolve("initramfs.cpio"), "stand-in initrd");
        InstanceSpec spec = spec("hello-v3-cfg", initrd, "--ipv4=192.168.1.50/24", "--ipv4-gateway=192.168.1.1");

        InstanceHandle handle = start(new XenDriver(xl, "xenbr1"), spec);

        Path config = spec.stateDir().toAbsolutePath().resolve("xl.cfg");
        assertThat(Files.readAllLines(config))
                .containsExactly(
                        "name = \"hello-v3-cfg\"",
                        "type = \"pvh\"",
                        "kernel = \"" + kernel + "\"",
                        "ramdisk = \"" + initrd + "\"",
                        "extra = \"--ipv4=192.168.1.50/24 --ipv4-gateway=192.168.1.1\"",
                        "memory = 128",
                        "vcpus = 2",
                        "vif = [ 'bridge=xenbr1' ]",
                        "on_crash = \"destroy\"");
        assertThat(Files.readAllLines(dir.resolve("xl.calls")))
                .containsSubsequence("create -q -p " + config, "unpause hello-v3-cfg")
                .contains("console hello-v3-cfg");
        assertThat(dir.resolve("xl.hello-v3-cfg.cfg")).hasSameTextualContentAs(config);
        assertThat(handle.state().driver()).isEqualTo("xen");
        assertThat(handle.state().pid()).isZero();
        assertThat(InstanceStateFile.read(InstanceStateFile.in(spec.stateDir())))
                .isEqualTo(handle.state());
        assertThat(Files.readString(spec.logFile()))
                .contains("created Xen domain hello-v3-cfg", "xl console hello-v3-cfg");
    }

    @Test
    void withoutAnInitrdThereIsNoRamdiskLine() throws Exception {
        InstanceSpec spec = spec("hello-v3-plain", null);
        start(new XenDriver(xl, "xenbr0"), spec);

        assertThat(Files.readAllLines(spec.stateDir().resolve("xl.cfg")))
                .noneMatch(l -> l.startsWith("ramdisk"))
                .contains("extra = \"\"", "vif = [ 'bridge=xenbr0' ]");
    }

    @Test
    void lifecycleStartAliveStopGone() throws Exception {
        InstanceSpec spec = spec("hello-v3-life", null);
        InstanceHandle handle = start(new XenDriver(xl, "xenbr0"), spec);

        assertThat(listed("hello-v3-life")).isTrue();
        assertThat(handle.isAlive()).isTrue();
        Thread.sleep(XenDomain.POLL.toMillis() + 500);
        assertThat(handle.isAlive()).as("still listed after a poll").isTrue();

        handle.stop(Duration.ofSeconds(5));

        assertThat(handle.isAlive()).isFalse();
        assertThat(handle.exited().get(1, TimeUnit.SECONDS)).isEqualTo(-1);
        assertThat(listed("hello-v3-life")).isFalse();
        assertThat(Files.readAllLines(dir.resolve("xl.calls")))
                .contains("shutdown -w hello-v3-life")
                .doesNotContain("destroy hello-v3-life");
    }

    @Test
    void aDomainThatIgnoresShutdownIsDestroyedOnceTheGraceIsOver() throws Exception {
        InstanceSpec spec = spec("hello-v3-deaf", null, "ignore-shutdown");
        InstanceHandle handle = start(new XenDriver(xl, "xenbr0"), spec);
        long began = System.nanoTime();

        handle.stop(Duration.ofMillis(800));

        assertThat(Duration.ofNanos(System.nanoTime() - began)).isGreaterThanOrEqualTo(Duration.ofMillis(800));
        assertThat(handle.isAlive()).isFalse();
        assertThat(listed("hello-v3-deaf")).isFalse();
        assertThat(Files.readAllLines(dir.resolve("xl.calls")))
                .containsSubsequence("shutdown -w hello-v3-deaf", "destroy hello-v3-deaf");
        assertThat(Files.readString(spec.logFile()))
                .contains("mayfly: xl shutdown -w hello-v3-deaf: did not finish within 800 ms; destroying the domain");
    }

    @Test
    void aDomainThatEndsByItselfIsNoticedByPolling() throws Exception {
        InstanceHandle handle = start(new XenDriver(xl, "xenbr0"), spec("hello-v3-crash", null));

        xl("destroy", "hello-v3-crash"); // what on_crash = "destroy" does to a guest that crashed

        assertThat(handle.exited().get(3 * XenDomain.POLL.toSeconds() + 2, TimeUnit.SECONDS))
                .isEqualTo(-1);
        assertThat(handle.isAlive()).isFalse();
    }

    @Test
    void recoverFindsARunningDomainAndNothingForADestroyedOne() throws Exception {
        InstanceSpec spec = spec("hello-v3-adopt", null);
        start(new XenDriver(xl, "xenbr0"), spec);
        InstanceState persisted = InstanceStateFile.read(InstanceStateFile.in(spec.stateDir()));

        InstanceHandle adopted = new XenDriver(xl, "xenbr0").recover(persisted).orElseThrow();

        assertThat(adopted.isAlive()).isTrue();
        assertThat(adopted.state()).isEqualTo(persisted);
        adopted.stop(Duration.ofSeconds(5));
        assertThat(listed("hello-v3-adopt")).isFalse();
        assertThat(new XenDriver(xl, "xenbr0").recover(persisted)).isEmpty();
        assertThat(new XenDriver(null, "xenbr0").recover(persisted)).isEmpty();
    }

    @Test
    void aFailedCreateIsADriverExceptionWithXlsOutput() throws Exception {
        start(new XenDriver(xl, "xenbr0"), spec("hello-v3-twice", null));

        assertThatThrownBy(() -> new XenDriver(xl, "xenbr0").start(spec("hello-v3-twice", null)))
                .isInstanceOf(DriverException.class)
                .hasMessageContaining("xl create "
                        + spec("hello-v3-twice", null)
                                .stateDir()
                                .toAbsolutePath()
                                .resolve("xl.cfg") + " failed (exit 3)")
                .hasMessageContaining("domain with name \"hello-v3-twice\" already exists");
    }

    @Test
    void argumentsAnXlConfigCannotCarryAreRefusedBeforeAnythingRuns() throws Exception {
        assertThatThrownBy(() -> new XenDriver(xl, "xenbr0").start(spec("hello-v3-quote", null, "--motd=\"hi\"")))
                .isInstanceOf(DriverException.class)
                .hasMessageContaining("run.args (--motd=\"hi\") holds a quote");
        assertThat(Files.readAllLines(dir.resolve("xl.calls"))).noneMatch(l -> l.startsWith("create"));
    }

    @Test
    void aMissingKernelIsADriverException() throws Exception {
        Files.delete(kernel);

        assertThatThrownBy(() -> new XenDriver(xl, "xenbr0").start(spec("hello-v3-gone", null)))
                .isInstanceOf(DriverException.class)
                .hasMessageContaining("the artifact of hello v3 is missing: " + kernel);
    }

    @Test
    void theGuestsConsoleIsCopiedIntoTheInstanceLogFromItsFirstLine() throws Exception {
        kernel = guest("""
                #!/bin/sh
                echo "guest: booted with $*"
                while :; do echo "guest: tick"; sleep 0.2; done
                """);
        InstanceSpec spec = spec("hello-v3-console", null, "--hello");

        start(new XenDriver(xl, "xenbr0"), spec);

        String log = StandIns.await(spec.logFile(), "guest: tick");
        assertThat(log).contains("guest: booted with --hello");
        assertThat(log.indexOf("mayfly: created Xen domain")).isLessThan(log.indexOf("guest: booted"));
        assertThat(consoles("hello-v3-console")).isEqualTo(1);
    }

    @Test
    void aDomainThatEndsHasItsLastLinesInTheLogWhenItsExitIsSeenAndItsConsoleEnds() throws Exception {
        kernel = guest("""
                #!/bin/sh
                echo "guest: booted"
                sleep 0.3
                echo "guest: last words"
                exit 1
                """);
        InstanceSpec spec = spec("hello-v3-ends", null);
        long began = System.nanoTime();
        InstanceHandle handle = start(new XenDriver(xl, "xenbr0"), spec);
        CompletableFuture<String> logAtExit = handle.exited().thenApply(code -> read(spec.logFile()));

        assertThat(logAtExit.get(3 * XenDomain.POLL.toSeconds() + 2, TimeUnit.SECONDS))
                .contains("guest: booted", "guest: last words");
        // Seen when its console ended, not at the next poll of xl list.
        System.out.println("a Xen guest's end seen "
                + Duration.ofNanos(System.nanoTime() - began).toMillis() + " ms after its start (it ran 300 ms)");
        assertThat(handle.exited().join()).isEqualTo(-1);
        awaitNoConsole("hello-v3-ends");
    }

    @Test
    void aRestartedAgentAttachesToTheConsoleAgainAndOnlyOneCopiesIt() throws Exception {
        kernel = guest("""
                #!/bin/sh
                echo "guest: booted"
                i=0; while :; do i=$((i+1)); echo "guest: tick $i"; sleep 0.2; done
                """);
        InstanceSpec spec = spec("hello-v3-reattach", null);
        InstanceHandle first = start(new XenDriver(xl, "xenbr0"), spec);
        StandIns.await(spec.logFile(), "guest: tick 2");
        InstanceState persisted = InstanceStateFile.read(InstanceStateFile.in(spec.stateDir()));

        first.detach(); // the agent goes away: its console copy with it
        awaitNoConsole("hello-v3-reattach");
        long before = Files.size(spec.logFile());
        InstanceHandle adopted = new XenDriver(xl, "xenbr0").recover(persisted).orElseThrow();
        started.add(adopted);

        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (Files.size(spec.logFile()) <= before + 40 && System.nanoTime() < end) Thread.sleep(50);
        String after = read(spec.logFile()).substring((int) before);
        assertThat(after).contains("guest: tick").doesNotContain("guest: booted");
        assertThat(consoles("hello-v3-reattach")).isEqualTo(1);
        adopted.stop(Duration.ofSeconds(5));
        awaitNoConsole("hello-v3-reattach");
    }

    @Test
    void noHttpOrTcpCheckReachesAXenGuestAndTheReasonSaysToCheckItsConsole() throws Exception {
        InstanceHandle handle = start(new XenDriver(xl, "xenbr0"), spec("hello-v3-reach", null));

        assertThat(handle.guest().unreachable())
                .hasValueSatisfying(why -> assertThat(why)
                        .contains("cannot reach its guests for an HTTP or TCP health check", "[health] console = "));
        assertThat(handle.guest().acceptsTcp(Duration.ofSeconds(1)))
                .isEqualTo(handle.guest().unreachable().orElseThrow());
    }

    /** An executable stand-in kernel: the stand-in xl runs it as the guest, its output the domain's console. */
    private Path guest(String script) throws Exception {
        return StandIns.script(dir.resolve("kernels"), "guest-" + System.nanoTime(), script);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** How many stand-in xl console processes copy the console of {@code domain}. */
    private static long consoles(String domain) {
        return running(a -> a.containsAll(List.of("console", domain)));
    }

    /** Waits up to 5 s for no xl console of {@code domain} to run, nor a tail one left behind. */
    private static void awaitNoConsole(String domain) throws InterruptedException {
        java.util.function.Predicate<List<String>> copying = a -> a.containsAll(List.of("console", domain))
                || a.stream().anyMatch(x -> x.endsWith("/" + domain + ".console"));
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (running(copying) > 0 && System.nanoTime() < end) Thread.sleep(50);
        assertThat(running(copying)).as("xl console processes of " + domain).isZero();
    }

    private static long running(java.util.function.Predicate<List<String>> arguments) {
        return ProcessHandle.allProcesses()
                .filter(ProcessHandle::isAlive)
                .filter(p ->
                        p.info().arguments().map(List::of).map(arguments::test).orElse(false))
                .count();
    }

    private InstanceSpec spec(String id, Path initrd, String... args) {
        return StandIns.spec(dir, id, kernel, initrd, List.of(args));
    }

    private InstanceHandle start(XenDriver driver, InstanceSpec spec) throws Exception {
        InstanceHandle handle = driver.start(spec);
        started.add(handle);
        return handle;
    }

    private boolean listed(String domain) throws Exception {
        return xl("list", domain) == 0;
    }

    private int xl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(xl.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }
}
