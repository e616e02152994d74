package io.mayfly.wire;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encrypts config vars at rest with AES-256-GCM. The key lives in {@code DATA/config.key} (mode 0600), made on
 * first use; what is stored is {@code v1:BASE64(iv | ciphertext+tag)} of the vars as JSON.
 */
public final class ConfigCipher {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String PREFIX = "v1:";
    private final SecretKeySpec key;

    public ConfigCipher(Path keyFile) throws IOException {
        if (!Files.exists(keyFile)) {
            byte[] fresh = new byte[32];
            RANDOM.nextBytes(fresh);
            Path tmp = keyFile.resolveSibling(keyFile.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(tmp, fresh);
            Files.move(tmp, keyFile, StandardCopyOption.ATOMIC_MOVE);
        }
        byte[] bytes = Files.readAllBytes(keyFile);
        if (bytes.length != 32)
            throw new IOException(keyFile
                    + " is not a 32-byte AES key; restore it from a backup (config vars cannot be read without it)");
        this.key = new SecretKeySpec(bytes, "AES");
    }

    public String seal(Map<String, String> vars) {
        try {
            byte[] iv = new byte[12];
            RANDOM.nextBytes(iv);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
            byte[] ct = c.doFinal(Json.write(new TreeMap<>(vars)).getBytes(StandardCharsets.UTF_8));
            byte[] out = new byte[iv.length + ct.length];
            System.arraycopy(iv, 0, out, 0, iv.length);
            System.arraycopy(ct, 0, out, iv.length, ct.length);
            return PREFIX + Base64.getEncoder().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot encrypt config vars", e);
        }
    }

    /** Reads what {@link #seal} wrote; plain JSON (releases made before encryption, or "{}") is read as is. */
    public Map<String, String> open(String stored) {
        if (stored == null || stored.isBlank()) return Map.of();
        try {
            String json;
            if (stored.startsWith(PREFIX)) {
                byte[] all = Base64.getDecoder().decode(stored.substring(PREFIX.length()));
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, all, 0, 12));
                json = new String(c.doFinal(all, 12, all.length - 12), StandardCharsets.UTF_8);
            } else {
                json = stored;
            }
            return new TreeMap<>(Json.MAPPER.readValue(json, new TypeReference<Map<String, String>>() {}));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot decrypt config vars: the key in config.key does not match them", e);
        }
    }
}
