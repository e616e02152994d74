package io.mayfly.agent.driver.firecracker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The first bytes of each kind of initrd a release may carry, and what the Firecracker driver makes of it. */
class InitramfsTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({
        "cpio, 303730373031", // "070701", newc
        "cpio, 303730373032", // "070702", newc with checksums
        "gzip, 1f8b08",
        "xz, fd377a585a000004",
        "zstd, 28b52ffd",
        "lz4, 02214c18",
        "bzip2, 425a6839", // "BZh9"
        "lzma, 5d0000800000",
        "lzo, 894c5a4f000d0a1a0a"
    })
    void anInitramfsIsToldByItsMagicAsItIsOrCompressed(String format, String head) throws Exception {
        Path initrd = image(HexFormat.of().parseHex(head));

        assertThat(Initramfs.format(initrd)).contains(format);
    }

    @Test
    void anExt4ImageIsNoInitramfs() throws Exception {
        ByteBuffer superblock = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        superblock.putShort(1080, (short) 0xEF53); // s_magic, 56 bytes into the superblock at 1024

        assertThat(Initramfs.format(Files.write(dir.resolve("rootfs.ext4"), superblock.array())))
                .isEmpty();
    }

    @Test
    void anythingElseIsNoInitramfsEvenWhenItIsShorterThanAnyMagic() throws Exception {
        assertThat(Initramfs.format(Files.writeString(dir.resolve("disk.img"), "stand-in disk image")))
                .isEmpty();
        assertThat(Initramfs.format(Files.write(dir.resolve("squashfs.img"), "hsqs".getBytes())))
                .isEmpty();
        assertThat(Initramfs.format(Files.write(dir.resolve("one-byte"), new byte[] {0x1f})))
                .as("half a gzip magic")
                .isEmpty();
        assertThat(Initramfs.format(Files.write(dir.resolve("empty"), new byte[0])))
                .isEmpty();
    }

    /** A file that begins with {@code head}, followed by more than any magic is long. */
    private Path image(byte[] head) throws Exception {
        byte[] bytes = new byte[512];
        System.arraycopy(head, 0, bytes, 0, head.length);
        return Files.write(dir.resolve("initrd"), bytes);
    }
}
