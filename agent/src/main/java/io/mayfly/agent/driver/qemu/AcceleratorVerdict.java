package io.mayfly.agent.driver.qemu;

import io.mayfly.agent.driver.InstanceStateFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Optional;

/**
 * What this host's KVM did with a real guest, learnt by {@link KvmWatch} and kept as {@value #FILE} in the driver's
 * state directory: {@code kvm} when a guest ran under it, {@code tcg} when one failed there, with why, when, and the
 * image it was learnt on. Without a verdict the next VM boots under KVM, watched.
 *
 * @param verdict {@code kvm} or {@code tcg}
 */
record AcceleratorVerdict(String verdict, String why, Instant when, Image image) {
    static final String FILE = "accelerator.json";

    /**
     * The image a verdict was learnt on: the file's name (an agent's cached artifact is named by its sha256), its
     * sha256 and size, and the app and release it belongs to.
     */
    record Image(String file, String sha256, long size, String app, int release) {
        static Image of(Path file, String app, int release) {
            try {
                MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
                try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha256)) {
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                }
                return new Image(
                        file.getFileName().toString(),
                        HexFormat.of().formatHex(sha256.digest()),
                        Files.size(file),
                        app,
                        release);
            } catch (IOException | NoSuchAlgorithmException e) {
                return new Image(file.getFileName().toString(), "unknown (" + e.getMessage() + ")", -1, app, release);
            }
        }

        @Override
        public String toString() {
            String shortSha = sha256.length() > 12 ? sha256.substring(0, 12) + "..." : sha256;
            return app + " v" + release + "'s " + (file.equals(sha256) ? "image" : file) + " (sha256 " + shortSha + ", "
                    + size + " bytes)";
        }
    }

    static AcceleratorVerdict kvm(String why, Image image) {
        return new AcceleratorVerdict("kvm", why, Instant.now().truncatedTo(ChronoUnit.SECONDS), image);
    }

    static AcceleratorVerdict tcg(String why, Image image) {
        return new AcceleratorVerdict("tcg", why, Instant.now().truncatedTo(ChronoUnit.SECONDS), image);
    }

    boolean isKvm() {
        return "kvm".equals(verdict);
    }

    /** The verdict kept in {@code dir}, if one was learnt and the file reads as one. */
    static Optional<AcceleratorVerdict> read(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.exists(file)) return Optional.empty();
        try {
            AcceleratorVerdict v = InstanceStateFile.readJson(file, AcceleratorVerdict.class);
            return v.verdict() != null && (v.isKvm() || "tcg".equals(v.verdict())) ? Optional.of(v) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // learnt again, as if it were not there
        }
    }

    void write(Path dir) throws IOException {
        InstanceStateFile.writeJson(dir.resolve(FILE), this);
    }

    /** Forgets the verdict: the next VM boots under KVM again, watched. */
    static void forget(Path dir) throws IOException {
        Files.deleteIfExists(dir.resolve(FILE));
    }

    /** How {@code mayfly drivers} says it. */
    String detail() {
        return isKvm()
                ? "KVM (" + image + " ran under it, " + when + ")"
                : "TCG (software emulation): KVM failed " + image + " at " + when + ": " + why
                        + "; mayfly drivers --reprobe tries KVM again";
    }
}
