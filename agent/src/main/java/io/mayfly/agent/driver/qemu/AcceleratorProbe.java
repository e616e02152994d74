package io.mayfly.agent.driver.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Whether KVM can really run a guest here. /dev/kvm existing proves nothing: on some hosts a KVM guest hangs or
 * aborts. The probe first boots the smallest possible guest under KVM, a boot sector that writes "OK" to the serial
 * port; then, because a real-mode guest can run where a 64-bit kernel hangs (this machine is such a host), the
 * kernel about to be booted, with no initrd, for up to 5 s: any console output means KVM works. The verdict is
 * cached in a file, so a host pays for it once.
 */
final class AcceleratorProbe {
    /** A real-mode boot sector: write 'O','K' to COM1 (0x3f8), then halt forever. */
    private static final byte[] BOOT_SECTOR = bootSector();

    private AcceleratorProbe() {}

    record Verdict(boolean kvm, String detail) {}

    /** The cached verdict, if a probe ran on this host. */
    static java.util.Optional<Verdict> cached(Path cacheDir) {
        try {
            List<String> lines = Files.readAllLines(cacheDir.resolve("kvm-probe.txt"));
            return lines.size() >= 2 ? java.util.Optional.of(new Verdict(Boolean.parseBoolean(lines.get(0)), lines.get(1)))
                    : java.util.Optional.empty();
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }

    static Verdict probe(Path qemu, Path cacheDir, Path kernel) {
        Path cache = cacheDir.resolve("kvm-probe.txt");
        var known = cached(cacheDir);
        if (known.isPresent()) return known.get();
        Verdict v = run(qemu, cacheDir, kernel);
        try {
            Files.createDirectories(cacheDir);
            Files.writeString(cache, v.kvm() + "\n" + v.detail() + "\n");
        } catch (IOException ignored) {
            // the probe runs again next time
        }
        return v;
    }

    private static Verdict run(Path qemu, Path dir, Path kernel) {
        if (!Files.isReadable(Path.of("/dev/kvm")) || !Files.isWritable(Path.of("/dev/kvm"))) {
            return new Verdict(false, "TCG (software emulation): /dev/kvm is missing or not accessible");
        }
        Path work = null;
        try {
            Files.createDirectories(dir);
            work = Files.createTempDirectory(dir, "kvm-probe");
            Path disk = work.resolve("boot.img");
            Path serial = work.resolve("serial.txt");
            Files.write(disk, BOOT_SECTOR);
            if (!prints(work, serial, "OK", qemu.toString(), "-accel", "kvm", "-M", "pc", "-m", "16", "-nodefaults", "-display", "none",
                    "-no-reboot", "-drive", "format=raw,file=" + disk + ",if=floppy", "-serial", "file:" + serial)) {
                return new Verdict(false, "TCG (software emulation): /dev/kvm is present but a boot sector did not run under KVM within 5 s");
            }
            if (kernel != null && !prints(work, work.resolve("kernel.txt"), "", qemu.toString(), "-accel", "kvm", "-M", "microvm", "-m", "128",
                    "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-kernel", kernel.toString(),
                    "-append", "console=ttyS0 earlyprintk=ttyS0 panic=-1", "-serial", "file:" + work.resolve("kernel.txt"))) {
                return new Verdict(false, "TCG (software emulation): /dev/kvm is present and runs a boot sector, but a kernel printed "
                        + "nothing within 5 s under KVM");
            }
            return new Verdict(true, "KVM (test guests ran under KVM)");
        } catch (IOException e) {
            return new Verdict(false, "TCG (software emulation): the KVM probe could not run: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Verdict(false, "TCG (software emulation): the KVM probe was interrupted");
        } finally {
            if (work != null) {
                try (var files = Files.walk(work)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                } catch (IOException ignored) {
                    // a leftover probe directory is harmless
                }
            }
        }
    }

    /** Runs QEMU for up to 5 s; true as soon as the serial file holds {@code expected} (or anything, when empty). */
    private static boolean prints(Path work, Path serial, String expected, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(work.resolve("qemu-" + serial.getFileName()).toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        try {
            while (System.nanoTime() < deadline && p.isAlive()) {
                if (Files.exists(serial) && Files.size(serial) > 0 && Files.readString(serial).contains(expected)) return true;
                Thread.sleep(50);
            }
            return false;
        } finally {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static byte[] bootSector() {
        byte[] code = {
                (byte) 0xBA, (byte) 0xF8, 0x03,     // mov dx, 0x3f8
                (byte) 0xB0, 'O', (byte) 0xEE,      // mov al, 'O'; out dx, al
                (byte) 0xB0, 'K', (byte) 0xEE,      // mov al, 'K'; out dx, al
                (byte) 0xB0, '\n', (byte) 0xEE,     // mov al, '\n'; out dx, al
                (byte) 0xFA, (byte) 0xF4,           // cli; hlt
                (byte) 0xEB, (byte) 0xFD };         // jmp back to hlt
        byte[] sector = new byte[512];
        System.arraycopy(code, 0, sector, 0, code.length);
        sector[510] = 0x55;
        sector[511] = (byte) 0xAA;
        return sector;
    }
}
