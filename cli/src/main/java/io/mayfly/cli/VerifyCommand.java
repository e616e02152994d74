package io.mayfly.cli;

import io.mayfly.wire.ArtifactSignatures;
import io.mayfly.wire.RegistryViews.ArtifactDetail;
import io.mayfly.wire.RegistryViews.BuildDetail;
import io.mayfly.wire.RegistryViews.SigningKeyView;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mayfly verify FILE --app A --build N}: checks that a downloaded file is byte for byte the artifact the
 * build stored (its sha256 equals the recorded one) and that the server's Ed25519 signature over that hash holds.
 */
@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description = "Check a downloaded artifact against the build that produced it and the server's signature.")
final class VerifyCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "FILE", description = "the downloaded file")
    Path file;

    @Mixin
    AppOption app;

    @Option(names = "--build", required = true, paramLabel = "N", description = "the build it came from")
    int build;

    @Option(
            names = "--artifact",
            paramLabel = "NAME",
            description = "which of the build's artifacts (default: the main one)")
    String artifact;

    @Option(
            names = "--key",
            paramLabel = "FINGERPRINT",
            description =
                    "require this signing key (sha256:HEX, as shown by an earlier verify) instead of trusting the server's")
    String expectedKey;

    @Override
    public Integer call() {
        if (!Files.isRegularFile(file)) {
            throw new CliError(file + " is not a file", "give the path of the downloaded artifact");
        }
        BuildDetail detail = api().get(appPath(app.name) + "/builds/" + build, BuildDetail.class);
        String name = artifact != null ? artifact : detail.mainArtifact();
        ArtifactDetail stored = detail.artifacts().stream()
                .filter(a -> a.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new CliError(
                        "build #" + build + " of " + app.name + " has no artifact named " + name,
                        detail.artifacts().isEmpty()
                                ? "that build stored no artifacts (status: " + detail.status() + ")"
                                : "its artifacts: "
                                        + detail.artifacts().stream()
                                                .map(ArtifactDetail::name)
                                                .collect(Collectors.joining(", "))
                                        + "; pick one with --artifact NAME"));

        SigningKeyView key = api().get("/signing-key", SigningKeyView.class);
        byte[] der = Base64.getDecoder().decode(key.publicKey());
        String fingerprint = ArtifactSignatures.fingerprint(der);
        if (!fingerprint.equals(key.fingerprint())) {
            throw new CliError(
                    "the server's signing key does not match its own fingerprint (" + key.fingerprint() + " vs "
                            + fingerprint + ")",
                    "the answer was damaged or tampered with on the way; try again, and ask the server's operator if it persists");
        }
        if (expectedKey != null && !expectedKey.strip().equals(fingerprint)) {
            throw new CliError(
                    "the server signs with key " + fingerprint + ", not the expected " + expectedKey.strip(),
                    "the server's key changed (a new data directory?) or this is not the server you trust; do not use "
                            + file);
        }

        String actual = sha256(file);
        if (!actual.equals(stored.sha256())) {
            throw new CliError(
                    file + " is not " + name + " from build #" + build + " of " + app.name + ": it hashes to sha256:"
                            + actual + ", the build recorded sha256:" + stored.sha256(),
                    "the file was changed or the download broke off; download it again from "
                            + api().server().serverUrl() + stored.url());
        }
        if (stored.signature() == null || !ArtifactSignatures.verify(der, stored.sha256(), stored.signature())) {
            throw new CliError(
                    "the signature of " + name + " from build #" + build + " of " + app.name + " (sha256:"
                            + stored.sha256() + ") does not verify with the server's key " + fingerprint,
                    "the recorded hash or the signature was altered; do not use " + file
                            + " and tell the server's operator");
        }
        print("verified: " + file + " is " + name + " from build #" + build + " of " + app.name + " (sha256:" + actual
                + "), signed by key " + fingerprint + "\n");
        return 0;
    }

    private static String sha256(Path file) {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(OutputStream.nullOutputStream());
            return HexFormat.of()
                    .formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (IOException e) {
            throw new CliError("cannot read " + file + ": " + e.getMessage(), "check the path and its permissions");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
