package io.mayfly.server.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Files stored once by sha256 under {@code blobs/sha256/ab/abcd...}. A blob is written to a temporary file,
 * fsynced, then renamed into place, so a crash leaves either nothing or the whole file; the database row that
 * names a blob is written only after {@link #put} returns.
 *
 * <p>With a {@link RemoteBlobs} store (servers sharing one database), {@link #put} also stores the blob there
 * before it returns, and the local directory becomes a cache: a blob another server stored is fetched on first
 * use, checked against its name, and kept.
 */
public final class ContentAddressedBlobs {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private final Path root;
    private final Path tmp;
    private final RemoteBlobs remote;

    public ContentAddressedBlobs(Path root) throws IOException {
        this(root, null);
    }

    /** {@code remote} null: the local directory is the store itself. */
    public ContentAddressedBlobs(Path root, RemoteBlobs remote) throws IOException {
        this.remote = remote;
        this.root = root.resolve("sha256");
        this.tmp = root.resolve("tmp");
        Files.createDirectories(this.root);
        Files.createDirectories(this.tmp);
        removeLeftovers();
    }

    public record Stored(String sha256, long size) {}

    /** Stores the stream's bytes and returns their digest. The stream is read to its end but not closed. */
    public Stored put(InputStream in) throws IOException {
        Path partial = Files.createTempFile(tmp, "blob-", ".partial");
        try {
            MessageDigest digest = sha256();
            long size;
            try (OutputStream out = Files.newOutputStream(partial, StandardOpenOption.WRITE)) {
                size = new DigestInputStream(in, digest).transferTo(out);
            }
            fsync(partial);
            String hex = HexFormat.of().formatHex(digest.digest());
            Path target = path(hex);
            if (Files.exists(target)) {
                Files.delete(partial);
            } else {
                Files.createDirectories(target.getParent());
                try {
                    Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    throw new IOException("the blob directory " + root + " does not support atomic renames", e);
                }
                fsyncDirectory(target.getParent());
            }
            if (remote != null && !remote.exists(hex)) remote.upload(hex, target);
            return new Stored(hex, size);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    /** Stores a regular file; a symbolic link at its place is refused (O_NOFOLLOW), never read through. */
    public Stored put(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return put(in);
        }
    }

    public boolean exists(String sha256) throws IOException {
        return Files.isRegularFile(path(sha256)) || remote != null && remote.exists(sha256);
    }

    /** Removes the blob here and from the remote store. */
    public void delete(String sha256) throws IOException {
        Files.deleteIfExists(path(sha256));
        if (remote != null) remote.delete(sha256);
    }

    /** Where the blobs are kept, for messages. */
    public String describe() {
        return remote == null ? root.toString() : remote.describe() + " (cached in " + root + ")";
    }

    /** Where the local copy of the blob is (it may not be there yet: use {@link #verify} to get a checked file). */
    public Path path(String sha256) {
        if (!SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("not a sha256 digest: " + sha256);
        }
        return root.resolve(sha256.substring(0, 2)).resolve(sha256);
    }

    /**
     * Re-hashes the stored file; throws when the bytes on disk no longer match their name. A blob that is only in
     * the remote store is fetched first.
     */
    public Path verify(String sha256) throws IOException {
        Path file = path(sha256);
        if (!Files.isRegularFile(file) && remote != null) fetch(sha256, file);
        if (!Files.isRegularFile(file)) {
            throw new IOException("blob sha256:" + sha256 + " is missing from " + root);
        }
        String actual = digestOf(file);
        if (!actual.equals(sha256)) {
            throw new IOException(
                    "blob sha256:" + sha256 + " is corrupt on disk (" + file + " hashes to sha256:" + actual + ")");
        }
        return file;
    }

    /** Copies the blob from the remote store into the cache, the same way {@link #put} stores one: whole or not at all. */
    private void fetch(String sha256, Path target) throws IOException {
        Path partial = Files.createTempFile(tmp, "fetch-", ".partial");
        try {
            remote.download(sha256, partial);
            String actual = digestOf(partial);
            if (!actual.equals(sha256)) {
                throw new IOException("blob sha256:" + sha256 + " fetched from " + remote.describe()
                        + " hashes to sha256:" + actual + "; the remote copy is corrupt: upload the artifact again");
            }
            fsync(partial);
            Files.createDirectories(target.getParent());
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    public static String digestOf(Path file) throws IOException {
        MessageDigest digest = sha256();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private void removeLeftovers() throws IOException {
        try (Stream<Path> partials = Files.list(tmp)) {
            for (Path p : (Iterable<Path>) partials::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void fsync(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // Some filesystems refuse to open directories for sync; the rename is still atomic there.
        }
    }
}
