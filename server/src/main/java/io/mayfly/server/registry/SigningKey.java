package io.mayfly.server.registry;

import io.mayfly.server.store.DurableFiles;
import io.mayfly.wire.ArtifactSignatures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's Ed25519 key pair, made on first start: the private key (PKCS#8, PEM) in {@code DATA/signing-key}
 * with mode 0600, the public key (X.509 SubjectPublicKeyInfo, PEM) in {@code DATA/signing-key.pub}.
 * What is signed for an artifact is exactly the ASCII text {@code sha256:HEX} (HEX: 64 lowercase hex digits of
 * the artifact's sha256), so a signature vouches for the bytes whatever the file is called.
 * With OpenSSL: {@code printf 'sha256:HEX' > msg; base64 -d FILE.sig > sig;
 * openssl pkeyutl -verify -pubin -inkey signing-key.pub -rawin -in msg -sigfile sig}.
 */
public final class SigningKey {
    private static final Logger log = LoggerFactory.getLogger(SigningKey.class);
    public static final String ALGORITHM = ArtifactSignatures.ALGORITHM;

    private final PrivateKey privateKey;
    private final PublicKey publicKey;

    private SigningKey(PrivateKey privateKey, PublicKey publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    /** Loads the key pair from the data directory, or makes and stores one if there is no private key yet. */
    public static SigningKey loadOrCreate(Path data) throws IOException {
        Path privateFile = data.resolve("signing-key");
        Path publicFile = data.resolve("signing-key.pub");
        try {
            if (Files.exists(privateFile) && Files.exists(publicFile)) {
                return load(privateFile, publicFile);
            }
            KeyPair pair = KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
            // The public key goes first: a crash between the two writes leaves no private key, so the next start makes
            // a new pair.
            DurableFiles.writeAtomically(
                    publicFile, pem("PUBLIC KEY", pair.getPublic().getEncoded()), false);
            DurableFiles.writeAtomically(
                    privateFile, pem("PRIVATE KEY", pair.getPrivate().getEncoded()), true);
            SigningKey key = new SigningKey(pair.getPrivate(), pair.getPublic());
            log.info("made a new Ed25519 signing key {} in {}", key.fingerprint(), privateFile);
            return key;
        } catch (GeneralSecurityException e) {
            throw new IOException(
                    "cannot use the Ed25519 signing key in " + privateFile + ": " + e.getMessage()
                            + "; if the file was damaged, move signing-key and signing-key.pub away and restart to make a new pair",
                    e);
        }
    }

    private static SigningKey load(Path privateFile, Path publicFile) throws IOException, GeneralSecurityException {
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(privateFile);
        if (mode.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
            log.warn(
                    "{} is readable by others (mode {}); run chmod 600 on it",
                    privateFile,
                    PosixFilePermissions.toString(mode));
        }
        KeyFactory factory = KeyFactory.getInstance(ALGORITHM);
        PrivateKey privateKey = factory.generatePrivate(new PKCS8EncodedKeySpec(unpem(Files.readString(privateFile))));
        PublicKey publicKey = factory.generatePublic(new X509EncodedKeySpec(unpem(Files.readString(publicFile))));
        SigningKey key = new SigningKey(privateKey, publicKey);
        String probe = "0".repeat(64);
        if (!ArtifactSignatures.verify(publicKey.getEncoded(), probe, key.signArtifact(probe))) {
            throw new GeneralSecurityException(publicFile + " is not the public half of " + privateFile);
        }
        return key;
    }

    /** Base64 Ed25519 signature over {@link ArtifactSignatures#signedText}. */
    public String signArtifact(String sha256) {
        return Base64.getEncoder().encodeToString(sign(ArtifactSignatures.signedText(sha256)));
    }

    /** The public key as X.509 DER. */
    public byte[] publicKeyDer() {
        return publicKey.getEncoded();
    }

    /** {@code sha256:HEX} over the public key's X.509 DER. */
    public String fingerprint() {
        return ArtifactSignatures.fingerprint(publicKey.getEncoded());
    }

    private byte[] sign(byte[] message) {
        try {
            Signature signature = Signature.getInstance(ALGORITHM);
            signature.initSign(privateKey);
            signature.update(message);
            return signature.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed", e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    private static byte[] unpem(String text) {
        return Base64.getMimeDecoder()
                .decode(text.replaceAll("-----[A-Z ]+-----", "").strip());
    }
}
