package io.mayfly.agent.driver.qemu;

import io.mayfly.agent.driver.ConsoleLines;
import io.mayfly.agent.driver.VmHost;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Whether a guest booted under KVM really runs there, judged from that boot: {@code /dev/kvm} can run a boot sector,
 * even a kernel's first lines, and still fail the real guest while QEMU keeps running. The rule ({@link #decide}):
 * <ul>
 * <li>QEMU's own fatal KVM lines on the console ({@link #FATAL}: {@code KVM internal error}, {@code emulation
 * failure}, {@code failed to set MSR}, ...), or QEMU saying the VM stopped with an internal error: KVM failed this
 * guest, for sure.</li>
 * <li>Silence: nothing from the guest (QEMU's and Mayfly's own lines aside) within {@link #SILENCE} of its start.
 * Under KVM a guest runs at the host's speed; the Linux test VM prints its first line within about 1.3 s under
 * TCG, a unikernel sooner, so under KVM 3 s of nothing means its vCPU is not running. But an image may print
 * nothing at all: a silent KVM boot is booted again under TCG at once, and the verdict is kept only when that boot
 * prints within {@link #CONFIRM}, proving the silence was KVM's; if it stays silent too, no verdict is kept.</li>
 * <li>A guest that printed and ran {@link #TRUST} under KVM with neither: KVM works.</li>
 * <li>QEMU ending by itself with no fatal line: the guest's own end, nothing learnt.</li>
 * </ul>
 * A boot KVM failed is ended at once and booted again under TCG as the same instance (see
 * {@link QemuInstanceHandle#relaunch}), and later boots use TCG ({@link AcceleratorVerdict}).
 */
final class KvmWatch {
    static final Duration SILENCE = Duration.ofSeconds(3);
    static final Duration TRUST = Duration.ofSeconds(10);
    static final Duration CONFIRM = Duration.ofSeconds(60);
    /** What QEMU prints (to the console log: its stderr goes there) when KVM cannot run the guest. */
    static final List<String> FATAL = List.of(
            "KVM internal error",
            "emulation failure",
            "failed to set MSR",
            "kvm run failed",
            "KVM: entry failed",
            "kvm_init_vcpu failed",
            "failed to initialize kvm",
            "failed to initialize KVM");

    private static final long POLL_MILLIS = 100;

    private KvmWatch() {}

    /**
     * What the watch has seen of one KVM boot so far: the time since its start, whether the guest printed, QEMU's
     * first fatal KVM line, QEMU's run state ({@code query-status}: running, internal-error, ...; null when it did not
     * answer) and whether QEMU has ended.
     */
    record Seen(Duration elapsed, boolean guestPrinted, String fatalLine, String runState, boolean ended) {}

    sealed interface Decision {
        record Watching() implements Decision {}

        /** The guest ran under KVM. */
        record Works() implements Decision {}

        /** QEMU ended by itself, not because of KVM. */
        record Ended() implements Decision {}

        /** Boot it again under TCG; {@code certain}: KVM's fault for sure, else only once the TCG boot prints. */
        record Fails(String why, boolean certain) implements Decision {}
    }

    static Decision decide(Seen seen) {
        if (seen.fatalLine() != null)
            return new Decision.Fails("QEMU said: " + seen.fatalLine().strip(), true);
        if ("internal-error".equals(seen.runState()))
            return new Decision.Fails("QEMU stopped the guest with a KVM internal error", true);
        if (seen.ended()) return new Decision.Ended();
        if (!seen.guestPrinted() && seen.elapsed().compareTo(SILENCE) >= 0) {
            return new Decision.Fails("the guest printed nothing in " + SILENCE.toSeconds() + " s under KVM", false);
        }
        if (seen.guestPrinted()
                && seen.elapsed().compareTo(TRUST) >= 0
                && (seen.runState() == null || "running".equals(seen.runState()))) {
            return new Decision.Works();
        }
        return new Decision.Watching();
    }

    /** Whether a console line is QEMU's own: its messages start with its program name. */
    static boolean isQemus(String line) {
        return line.startsWith("qemu-system-")
                || line.startsWith("qemu:")
                || FATAL.stream().anyMatch(line::contains);
    }

    /**
     * Watches the KVM boot of {@code handle} on a thread of its own: falls back to TCG when KVM fails it, keeps the
     * verdict in {@code verdictDir}, and lets the instance's end be its own again once it is decided.
     */
    static void start(QemuInstanceHandle handle, long consoleFrom, Path image, Path verdictDir) {
        Thread.ofVirtual().name("kvm-watch-" + handle.state().id()).start(() -> {
            try {
                watch(handle, consoleFrom, image, verdictDir);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                handle.release();
            }
        });
    }

    private static void watch(QemuInstanceHandle handle, long consoleFrom, Path image, Path verdictDir)
            throws InterruptedException {
        long began = System.nanoTime();
        Console console = new Console(handle.state().logFile(), consoleFrom);
        for (int round = 0; ; round++) {
            Thread.sleep(POLL_MILLIS);
            if (!handle.watched()) return; // stopped meanwhile
            boolean ended = !handle.runAlive();
            console.read();
            String runState = ended || round % 3 != 2 ? null : handle.runState();
            switch (decide(new Seen(
                    Duration.ofNanos(System.nanoTime() - began),
                    console.guestPrinted,
                    console.fatalLine,
                    runState,
                    ended))) {
                case Decision.Watching w -> {}
                case Decision.Ended e -> {
                    return;
                }
                case Decision.Works w -> {
                    if (AcceleratorVerdict.read(verdictDir).isEmpty()) {
                        keep(
                                AcceleratorVerdict.kvm(
                                        "a guest printed and ran " + TRUST.toSeconds() + " s under KVM",
                                        image(handle, image)),
                                verdictDir,
                                handle);
                    }
                    return;
                }
                case Decision.Fails f -> {
                    fallBack(handle, f, image, verdictDir);
                    return;
                }
            }
        }
    }

    private static void fallBack(QemuInstanceHandle handle, Decision.Fails failed, Path image, Path verdictDir)
            throws InterruptedException {
        Path log = handle.state().logFile();
        VmHost.note(
                log, "KVM failed this guest (" + failed.why() + "): booting it again under TCG (software emulation)");
        long began = System.nanoTime();
        long from = handle.relaunch();
        if (from < 0) return; // stopped meanwhile
        if (failed.certain()) {
            keep(AcceleratorVerdict.tcg(failed.why(), image(handle, image)), verdictDir, handle);
            return;
        }
        Console console = new Console(log, from);
        while (handle.runAlive() && System.nanoTime() - began < CONFIRM.toNanos()) {
            Thread.sleep(POLL_MILLIS);
            console.read();
            if (console.guestPrinted) {
                keep(
                        AcceleratorVerdict.tcg(
                                failed.why() + "; under TCG it printed within "
                                        + Duration.ofNanos(System.nanoTime() - began)
                                                .toMillis() + " ms",
                                image(handle, image)),
                        verdictDir,
                        handle);
                return;
            }
        }
        VmHost.note(
                log,
                "the guest printed nothing under TCG either: its silence under KVM proved nothing, so no verdict was kept "
                        + "(the next boot tries KVM again)");
    }

    private static AcceleratorVerdict.Image image(QemuInstanceHandle handle, Path image) {
        return AcceleratorVerdict.Image.of(
                image, handle.state().app(), handle.state().release());
    }

    private static void keep(AcceleratorVerdict verdict, Path dir, QemuInstanceHandle handle) {
        try {
            verdict.write(dir);
            VmHost.note(
                    handle.state().logFile(),
                    "accelerator verdict kept in " + dir.resolve(AcceleratorVerdict.FILE) + ": " + verdict.detail());
        } catch (IOException e) {
            VmHost.note(
                    handle.state().logFile(),
                    "cannot keep the accelerator verdict in " + dir + " (" + e.getMessage()
                            + "): the next boot learns it again");
        }
    }

    /** What a console log holds past an offset, read as it grows: whether the guest printed, and QEMU's first fatal KVM line. */
    static final class Console {
        private final ConsoleLines.Tail tail;
        boolean guestPrinted;
        String fatalLine;

        Console(Path log, long from) {
            this.tail = new ConsoleLines.Tail(log, from);
        }

        void read() {
            for (String line : tail.read()) {
                if (fatalLine == null && FATAL.stream().anyMatch(line::contains)) fatalLine = line;
                guestPrinted |= isGuests(line);
            }
            // Mayfly and QEMU write whole lines; a guest's first bytes need not end one.
            String partial = tail.partial();
            guestPrinted |= isGuests(partial) && !"mayfly: ".startsWith(partial) && !"qemu-system-".startsWith(partial);
        }

        private static boolean isGuests(String line) {
            return !line.isBlank() && !ConsoleLines.isMayflys(line) && !isQemus(line);
        }
    }
}
