package io.mayfly.agent.driver.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinuxKernelTest {
    @TempDir
    Path tmp;

    @Test
    void anElfKernelIsLinuxOnlyWhenItCarriesALinuxNote() throws Exception {
        assertThat(LinuxKernel.is(write("vmlinux", elfWithNote("Linux")))).isTrue();
        assertThat(LinuxKernel.is(write("unikernel", elfWithNote("Solo5")))).isFalse();
    }

    @Test
    void aBzImageIsLinuxAndOtherFilesAreNot() throws Exception {
        byte[] bz = new byte[0x300];
        System.arraycopy("HdrS".getBytes(StandardCharsets.US_ASCII), 0, bz, 0x202, 4);
        assertThat(LinuxKernel.is(write("bzImage", bz))).isTrue();
        assertThat(LinuxKernel.is(write("disk.raw", new byte[4096]))).isFalse();
        assertThat(LinuxKernel.is(write("short", new byte[3]))).isFalse();
        assertThat(LinuxKernel.is(tmp.resolve("missing"))).isFalse();
    }

    @Test
    void theHostTscFrequencyIsPlausibleWhenKnown() {
        LinuxKernel.hostTscKhz().ifPresent(khz -> assertThat(khz).isBetween(100_000L, 10_000_000L));
    }

    private Path write(String name, byte[] bytes) throws Exception {
        return Files.write(tmp.resolve(name), bytes);
    }

    /** A minimal ELF64 file: the header, one PT_NOTE program header and one note owned by {@code owner}. */
    private static byte[] elfWithNote(String owner) {
        byte[] name = (owner + "\0").getBytes(StandardCharsets.US_ASCII);
        int nameLen = (name.length + 3) & ~3;
        int noteAt = 64 + 56, noteLen = 12 + nameLen + 4;
        ByteBuffer b = ByteBuffer.allocate(noteAt + noteLen).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x464c457f).put(4, (byte) 2).put(5, (byte) 1).put(6, (byte) 1);
        b.putLong(0x20, 64).putShort(0x36, (short) 56).putShort(0x38, (short) 1);
        b.putInt(64, 4).putLong(64 + 8, noteAt).putLong(64 + 32, noteLen);
        b.putInt(noteAt, name.length).putInt(noteAt + 4, 4).putInt(noteAt + 8, 6);
        b.put(noteAt + 12, name);
        return b.array();
    }
}
