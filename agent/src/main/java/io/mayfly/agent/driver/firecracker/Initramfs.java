package io.mayfly.agent.driver.firecracker;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Tells an initramfs from a disk image by its first bytes: an initramfs is a cpio archive in the newc format, which
 * the kernel unpacks into its root filesystem itself, either as it is or compressed in one of the formats the kernel
 * can decompress (its {@code CONFIG_RD_*} options, recognised by the same magic numbers as the kernel's
 * {@code lib/decompress.c}). Anything else, such as an ext4 image (magic 0xEF53 at offset 1080), is not one.
 */
final class Initramfs {
    /** A format and the bytes its files begin with. */
    private record Magic(String format, byte[] bytes) {
        static Magic ascii(String format, String magic) {
            return new Magic(format, magic.getBytes(StandardCharsets.US_ASCII));
        }

        static Magic hex(String format, String magic) {
            return new Magic(format, HexFormat.of().parseHex(magic));
        }

        boolean begins(byte[] head) {
            return head.length >= bytes.length && Arrays.equals(head, 0, bytes.length, bytes, 0, bytes.length);
        }
    }

    private static final List<Magic> MAGICS = List.of(
            Magic.ascii("cpio", "070701"),
            Magic.ascii("cpio", "070702"), // newc with checksums
            Magic.hex("gzip", "1f8b"),
            Magic.hex("xz", "fd377a585a00"),
            Magic.hex("zstd", "28b52ffd"),
            Magic.hex("lz4", "02214c18"), // the legacy frame, the one the kernel reads (lz4 -l)
            Magic.ascii("bzip2", "BZh"),
            Magic.hex("lzma", "5d00"),
            Magic.hex("lzo", "894c5a4f")); // "\x89LZO", lzop's header
    private static final int HEAD =
            MAGICS.stream().mapToInt(m -> m.bytes().length).max().orElseThrow();

    private Initramfs() {}

    /** The initramfs's format ({@code cpio}, or the compression around it, e.g. {@code gzip}), or empty when {@code file} is not one. */
    static Optional<String> format(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(HEAD);
        }
        return MAGICS.stream().filter(m -> m.begins(head)).map(Magic::format).findFirst();
    }
}
