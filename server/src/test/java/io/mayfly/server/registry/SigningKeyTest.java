package io.mayfly.server.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mayfly.wire.ArtifactSignatures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SigningKeyTest {
    @TempDir
    Path data;

    private static final String SHA = "ab".repeat(32);

    @Test
    void firstStartMakesAPrivateKeyOnlyTheOwnerCanReadAndLaterStartsReuseIt() throws Exception {
        SigningKey first = SigningKey.loadOrCreate(data);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("signing-key"))))
                .isEqualTo("rw-------");
        assertThat(Files.readString(data.resolve("signing-key"))).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(Files.readString(data.resolve("signing-key.pub"))).startsWith("-----BEGIN PUBLIC KEY-----");

        SigningKey again = SigningKey.loadOrCreate(data);
        assertThat(again.fingerprint()).isEqualTo(first.fingerprint()).startsWith("sha256:");
        assertThat(again.publicKeyDer()).isEqualTo(first.publicKeyDer());
    }

    @Test
    void signatureCoversTheHashTextAndFailsForAnyOtherHash() throws Exception {
        SigningKey key = SigningKey.loadOrCreate(data);
        String signature = key.signArtifact(SHA);
        assertThat(ArtifactSignatures.verify(key.publicKeyDer(), SHA, signature))
                .isTrue();
        assertThat(ArtifactSignatures.verify(key.publicKeyDer(), "cd".repeat(32), signature))
                .isFalse();
        assertThat(ArtifactSignatures.verify(key.publicKeyDer(), SHA, "not base64!"))
                .isFalse();

        // The JDK alone, from the documented contract: Ed25519 over the ASCII text "sha256:HEX".
        var pub = java.security.KeyFactory.getInstance("Ed25519")
                .generatePublic(new java.security.spec.X509EncodedKeySpec(key.publicKeyDer()));
        var verifier = java.security.Signature.getInstance("Ed25519");
        verifier.initVerify(pub);
        verifier.update(("sha256:" + SHA).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThat(verifier.verify(java.util.Base64.getDecoder().decode(signature)))
                .isTrue();
    }

    @Test
    void aPublicKeyThatDoesNotBelongToThePrivateKeyIsRefused() throws Exception {
        Path other = Files.createDirectories(data.resolve("other"));
        SigningKey.loadOrCreate(data);
        SigningKey.loadOrCreate(other);
        Files.copy(
                other.resolve("signing-key.pub"),
                data.resolve("signing-key.pub"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> SigningKey.loadOrCreate(data)).hasMessageContaining("not the public half");
    }
}
