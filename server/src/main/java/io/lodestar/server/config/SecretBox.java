package io.lodestar.server.config;

import com.google.protobuf.ByteString;
import io.lodestar.api.v1.ConfigVersion;
import io.lodestar.core.config.ConfigKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Encryption at rest for secret configs: AES-256-GCM with a key kept in {@code secret.key} in the
 * data directory, created owner-only (0600) on first start. Content is encrypted before its
 * command is logged, so neither the log nor snapshots ever hold the plaintext; the config's key
 * is the associated data, so a ciphertext cannot be moved to another config. The key is never
 * logged. Stored form: {@code [1 version byte][12-byte IV][ciphertext + 16-byte tag]}.
 */
public final class SecretBox {
  static final String KEY_FILE = "secret.key";
  private static final Logger log = LoggerFactory.getLogger(SecretBox.class);
  private static final byte FORMAT_V1 = 1;
  private static final int IV_BYTES = 12;
  private static final int TAG_BITS = 128;

  private final SecretKeySpec key;
  private final SecretKeySpec hashKey;
  private final SecureRandom random = new SecureRandom();

  private SecretBox(byte[] raw) {
    this.key = new SecretKeySpec(raw, "AES");
    // A separate key for content hashes, derived so that one key file serves both.
    this.hashKey = new SecretKeySpec(hmac(new SecretKeySpec(raw, "HmacSHA256"),
        "lodestar config hash".getBytes(StandardCharsets.UTF_8)), "HmacSHA256");
  }

  /** Loads the key file in {@code dataDir}, creating it (0600) when missing. */
  public static SecretBox open(Path dataDir) {
    Path file = dataDir.resolve(KEY_FILE);
    try {
      Files.createDirectories(dataDir);
      if (!Files.exists(file)) {
        create(file);
      }
      byte[] raw = Files.readAllBytes(file);
      if (raw.length != 32) {
        throw new IllegalStateException(file + " must hold a 32-byte key; it has " + raw.length + " bytes");
      }
      warnIfShared(file);
      return new SecretBox(raw);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create the secret key " + file, e);
    }
  }

  private static void create(Path file) throws IOException {
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rw-------");
    try {
      // Created with its final permissions, so it is never readable by others, not even briefly.
      Files.createFile(file, PosixFilePermissions.asFileAttribute(ownerOnly));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);  // not a POSIX file system
    } catch (FileAlreadyExistsException e) {
      return;  // another process won the race; use its key
    }
    Files.write(file, raw, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
    log.info("Created the secret-config key file {} (owner-only)", file.toAbsolutePath());
  }

  private static void warnIfShared(Path file) {
    try {
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
      if (p.stream().anyMatch(x -> x.name().startsWith("GROUP") || x.name().startsWith("OTHERS"))) {
        log.warn("{} is readable by others ({}); it should be owner-only (chmod 600)", file,
            PosixFilePermissions.toString(p));
      }
    } catch (UnsupportedOperationException | IOException e) {
      // not a POSIX file system: nothing to check
    }
  }

  public ByteString encrypt(ConfigKey config, byte[] plaintext) {
    try {
      byte[] iv = new byte[IV_BYTES];
      random.nextBytes(iv);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
      c.updateAAD(aad(config));
      byte[] sealed = c.doFinal(plaintext);
      return ByteString.copyFrom(ByteBuffer.allocate(1 + IV_BYTES + sealed.length).put(FORMAT_V1).put(iv)
          .put(sealed).array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is unavailable", e);
    }
  }

  public byte[] decrypt(ConfigKey config, ByteString stored) {
    byte[] all = stored.toByteArray();
    if (all.length < 1 + IV_BYTES || all[0] != FORMAT_V1) {
      throw new IllegalStateException("secret config " + config + " holds content in an unknown format");
    }
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, all, 1, IV_BYTES));
      c.updateAAD(aad(config));
      return c.doFinal(all, 1 + IV_BYTES, all.length - 1 - IV_BYTES);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot decrypt secret config " + config
          + " (was " + KEY_FILE + " replaced?)", e);
    }
  }

  /** The plaintext of one version of a config, decrypting when the config is secret. */
  public byte[] plaintext(ConfigKey config, boolean secret, ConfigVersion v) {
    return secret ? decrypt(config, v.getContent()) : v.getContent().toByteArray();
  }

  /** Content hash: SHA-256 of the plaintext; for secrets a keyed HMAC, so the hash cannot be brute-forced. */
  public String hash(boolean secret, byte[] plaintext) {
    if (secret) {
      return HexFormat.of().formatHex(hmac(hashKey, plaintext));
    }
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(plaintext));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] hmac(SecretKeySpec k, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(k);
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable", e);
    }
  }

  private static byte[] aad(ConfigKey config) {
    return config.toString().getBytes(StandardCharsets.UTF_8);
  }
}
