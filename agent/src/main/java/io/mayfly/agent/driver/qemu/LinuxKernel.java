package io.mayfly.agent.driver.qemu;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * Facts about Linux guests the QEMU driver needs: whether an image is a Linux kernel (kernel parameters only make
 * sense for one; a MirageOS unikernel rejects arguments it does not know), and the host's TSC frequency.
 */
final class LinuxKernel {
    private static final int PT_NOTE = 4;

    private LinuxKernel() {}

    /** A bzImage (the "HdrS" boot header), or an ELF kernel carrying an ELF note owned by "Linux". */
    static boolean is(Path image) {
        try (FileChannel ch = FileChannel.open(image)) {
            ByteBuffer head = read(ch, 0, 0x210);
            if (head.limit() >= 0x206 && head.getInt(0x202) == 0x53726448) return true; // "HdrS"
            if (head.limit() < 64 || head.getInt(0) != 0x464c457f || head.get(4) != 2) return false; // ELF64 only
            long phoff = head.getLong(0x20);
            int phentsize = Short.toUnsignedInt(head.getShort(0x36));
            int phnum = Short.toUnsignedInt(head.getShort(0x38));
            for (int i = 0; i < phnum && i < 64; i++) {
                ByteBuffer ph = read(ch, phoff + (long) i * phentsize, 56);
                if (ph.limit() < 56 || ph.getInt(0) != PT_NOTE) continue;
                if (hasLinuxNote(read(ch, ph.getLong(8), (int) Math.min(ph.getLong(32), 1 << 16)))) return true;
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static boolean hasLinuxNote(ByteBuffer notes) {
        while (notes.remaining() >= 12) {
            int namesz = notes.getInt();
            int descsz = notes.getInt();
            notes.getInt(); // type
            if (namesz < 0 || descsz < 0 || namesz > notes.remaining()) return false;
            byte[] name = new byte[namesz];
            notes.get(name);
            if (new String(name, StandardCharsets.US_ASCII).equals("Linux\0")) return true;
            int skip = pad(namesz) - namesz + pad(descsz);
            if (skip > notes.remaining()) return false;
            notes.position(notes.position() + skip);
        }
        return false;
    }

    private static int pad(int n) {
        return (n + 3) & ~3;
    }

    private static ByteBuffer read(FileChannel ch, long at, int size) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining() && ch.read(b, at + b.position()) > 0) {
            /* read on */
        }
        return b.flip();
    }

    /**
     * The host's TSC frequency in kHz, when the host's TSC runs at a constant rate (the {@code constant_tsc} flag):
     * then /proc/cpuinfo's "cpu MHz" is that rate. Empty when unknown.
     */
    static OptionalLong hostTscKhz() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            if (lines.stream().noneMatch(l -> l.startsWith("flags") && l.contains(" constant_tsc")))
                return OptionalLong.empty();
            return lines.stream()
                    .filter(l -> l.startsWith("cpu MHz"))
                    .findFirst()
                    .map(l -> OptionalLong.of(Math.round(
                            Double.parseDouble(l.substring(l.indexOf(':') + 1).trim()) * 1000)))
                    .orElse(OptionalLong.empty());
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }
}
