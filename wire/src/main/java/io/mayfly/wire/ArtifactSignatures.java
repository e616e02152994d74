package io.mayfly.wire;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * What a Mayfly artifact signature is, for the server that signs and every client that checks: an Ed25519
 * signature over exactly the ASCII text {@code sha256:HEX} (HEX: the artifact's sha256 in lowercase hex), sent
 * as base64; the key is identified by {@code sha256:HEX} over its X.509 (SubjectPublicKeyInfo) DER.
 */
public final class ArtifactSignatures {
    public static final String ALGORITHM = "Ed25519";
    public static final String DESCRIPTION =
            "Ed25519 over the ASCII text 'sha256:HEX' of an artifact (HEX: its sha256 in lowercase hex), base64";

    private ArtifactSignatures() {}

    public static byte[] signedText(String sha256) {
        return ("sha256:" + sha256).getBytes(StandardCharsets.US_ASCII);
    }

    /** False for a malformed key or signature as well as for a wrong one. */
    public static boolean verify(byte[] publicKeyDer, String sha256, String base64Signature) {
        try {
            PublicKey key = KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(publicKeyDer));
            Signature signature = Signature.getInstance(ALGORITHM);
            signature.initVerify(key);
            signature.update(signedText(sha256));
            return signature.verify(Base64.getDecoder().decode(base64Signature.strip()));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    public static String fingerprint(byte[] publicKeyDer) {
        try {
            return "sha256:"
                    + HexFormat.of()
                            .formatHex(MessageDigest.getInstance("SHA-256").digest(publicKeyDer));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
