package io.mayfly.agent.artifacts;

import io.mayfly.wire.ArtifactSignatures;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Artifacts an agent downloaded, one file per sha256 in its cache directory. A download is written aside, kept
 * only if its bytes hash to the name the server gave, and every use checks the server's Ed25519 signature over
 * that hash, so neither a damaged transfer nor a server without the signing key can make the agent boot anything.
 */
public final class ArtifactCache {
    /** Opens the download of one artifact (a GET the caller makes with its own token and URL). */
    @FunctionalInterface
    public interface Download {
        HttpResponse<InputStream> open() throws IOException, InterruptedException;
    }

    private final Path dir;

    public ArtifactCache(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
    }

    /**
     * The cached file of {@code sha256}, downloaded first if needed, once {@code signature} verifies with
     * {@code signingKey} (X.509 DER). {@code source} names where it comes from, for messages.
     */
    public Path fetch(String name, String sha256, String signature, byte[] signingKey, String source, Download download)
            throws IOException, InterruptedException {
        if (!ArtifactSignatures.verify(signingKey, sha256, signature)) {
            throw new IOException("the signature of " + name + " (sha256:" + sha256
                    + ") does not verify with the server's signing key; not booting it");
        }
        Path cached = dir.resolve(sha256);
        if (!Files.exists(cached)) {
            HttpResponse<InputStream> response = download.open();
            if (response.statusCode() != 200) {
                response.body().close();
                throw new IOException("downloading " + source + " answered HTTP " + response.statusCode());
            }
            Path partial = Files.createTempFile(dir, "download-", ".partial");
            try {
                MessageDigest digest = MessageDigest.getInstance("SHA-256");
                try (InputStream in = new DigestInputStream(response.body(), digest);
                        OutputStream out = Files.newOutputStream(partial)) {
                    in.transferTo(out);
                }
                String actual = HexFormat.of().formatHex(digest.digest());
                if (!actual.equals(sha256)) {
                    throw new IOException("the download of " + source + " hashes to sha256:" + actual
                            + ", not the sha256:" + sha256 + " the server names; not booting it");
                }
                Files.move(partial, cached, StandardCopyOption.ATOMIC_MOVE);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            } finally {
                Files.deleteIfExists(partial);
            }
        }
        cached.toFile().setExecutable(true);
        return cached;
    }

    /**
     * Deletes every cached artifact but those in {@code keep} (sha256s): what the agent must run and what its
     * instances were started from. Returns how many bytes it freed. Downloads in progress are left alone.
     */
    public long retainOnly(java.util.Set<String> keep) throws IOException {
        long freed = 0;
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (!SHA256.matcher(name).matches() || keep.contains(name)) continue;
                long size = Files.size(f);
                if (Files.deleteIfExists(f)) freed += size;
            }
        }
        return freed;
    }

    private static final java.util.regex.Pattern SHA256 = java.util.regex.Pattern.compile("[0-9a-f]{64}");
}
