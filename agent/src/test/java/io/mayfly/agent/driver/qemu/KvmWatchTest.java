package io.mayfly.agent.driver.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rule that decides whether KVM ran a guest, from what its boot showed: no threads, no QEMU. */
class KvmWatchTest {
    private static KvmWatch.Decision after(long millis, boolean printed, String fatal, String runState, boolean ended) {
        return KvmWatch.decide(new KvmWatch.Seen(Duration.ofMillis(millis), printed, fatal, runState, ended));
    }

    @Test
    void qemusFatalLineFailsKvmAtOnceEvenAfterTheKernelPrinted() {
        assertThat(after(300, true, "KVM internal error. Suberror: 1", "running", false))
                .isEqualTo(new KvmWatch.Decision.Fails("QEMU said: KVM internal error. Suberror: 1", true));
        assertThat(after(300, true, null, "internal-error", false))
                .isInstanceOfSatisfying(
                        KvmWatch.Decision.Fails.class,
                        f -> assertThat(f.certain()).isTrue());
        // QEMU aborting on a KVM error ends it: still KVM's fault, not the guest's end.
        assertThat(after(300, false, "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x0", null, true))
                .isInstanceOf(KvmWatch.Decision.Fails.class);
    }

    @Test
    void aGuestSilentForTheDeadlineFailsKvmOnlyProvisionally() {
        assertThat(after(KvmWatch.SILENCE.toMillis() - 100, false, null, "running", false))
                .isInstanceOf(KvmWatch.Decision.Watching.class);
        assertThat(after(KvmWatch.SILENCE.toMillis(), false, null, "running", false))
                .isInstanceOfSatisfying(KvmWatch.Decision.Fails.class, f -> {
                    assertThat(f.certain()).isFalse();
                    assertThat(f.why()).contains("printed nothing in 3 s under KVM");
                });
    }

    @Test
    void aGuestThatPrintsAndRunsIsTrustedAfterAWhile() {
        assertThat(after(KvmWatch.SILENCE.toMillis() + 1000, true, null, "running", false))
                .isInstanceOf(KvmWatch.Decision.Watching.class);
        assertThat(after(KvmWatch.TRUST.toMillis(), true, null, "running", false))
                .isInstanceOf(KvmWatch.Decision.Works.class);
        assertThat(after(KvmWatch.TRUST.toMillis(), true, null, "paused", false))
                .isInstanceOf(KvmWatch.Decision.Watching.class);
    }

    @Test
    void qemuEndingWithoutAFatalLineIsTheGuestsOwnEnd() {
        assertThat(after(500, true, null, null, true)).isInstanceOf(KvmWatch.Decision.Ended.class);
    }

    @Test
    void theConsoleCountsTheGuestsBytesNotQemusOrMayflys(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("console.log");
        Files.writeString(log, "mayfly: booting x under QEMU (KVM, watched)\n");
        KvmWatch.Console console = new KvmWatch.Console(log, 0);
        Files.writeString(
                log,
                "qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]\n",
                StandardOpenOption.APPEND);
        console.read();
        assertThat(console.guestPrinted).isFalse();
        Files.writeString(log, "KVM internal error. Suberror: 1\nemulation failure\n", StandardOpenOption.APPEND);
        console.read();
        assertThat(console.guestPrinted).isFalse();
        assertThat(console.fatalLine).isEqualTo("KVM internal error. Suberror: 1");
        Files.writeString(log, "Sea", StandardOpenOption.APPEND); // a guest's first bytes, no line end yet
        console.read();
        assertThat(console.guestPrinted).isTrue();
    }
}
