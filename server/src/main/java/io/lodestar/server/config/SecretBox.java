package io.lodestar.server.config;

import com.google.protobuf.ByteString;
import io.lodestar.api.v1.ConfigVersion;
import io.lodestar.core.LodestarException;
import io.lodestar.core.config.ConfigKey;
import io.lodestar.server.storage.DirectorySync;
import io.lodestar.server.storage.OwnerOnly;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Encryption at rest for secret configs: AES-256-GCM with a key kept in {@code secret.key} in the
 * data directory, owner-only (0600), or derived from the cluster secret ({@code --cluster-secret-file}). Content is
 * encrypted before its command is logged, so neither the log nor snapshots ever hold the plaintext;
 * the config's key is the associated data, so a ciphertext cannot be moved to another config. The
 * key is never logged. Stored form: {@code [2][8-byte key id][12-byte IV][ciphertext + 16-byte tag]}
 * (format 1, still read, had no key id).
 *
 * <p>One key per cluster, by construction: a single node creates its key on first start, but a
 * cluster member never does (each would invent its own and secrets written through one node could
 * not be read through another): it derives the key from the cluster secret every member is given. A member without a key refuses secret writes and says how to give
 * it one; the key id stamped into every ciphertext lets a node see at start that its key is not
 * the one the cluster's secrets were written with (see {@link SecretKeyCheck}), and makes a read
 * through such a node a clear 503 rather than a decryption failure.
 */
public final class SecretBox {
  static final String KEY_FILE = "secret.key";
  private static final Logger log = LoggerFactory.getLogger(SecretBox.class);
  private static final byte FORMAT_V1 = 1;
  private static final byte FORMAT_V2 = 2;
  private static final int KEY_ID_BYTES = 8;
  private static final int IV_BYTES = 12;
  private static final int TAG_BITS = 128;
  /** What a cluster member without a key tells whoever tries to write or read a secret. */
  static final String HOW_TO_SHARE = io.lodestar.server.storage.ClusterSecret.HOW_TO_SHARE;

  /** Retired keys (after a rotation), kept in this directory of the data directory by key id. */
  static final String RETIRED_DIR = "secret-keys";

  /** One key with what derives from it. */
  private record Key(SecretKeySpec aes, SecretKeySpec hashKey, byte[] id, byte[] raw) {
    static Key of(byte[] raw) {
      SecretKeySpec mac = new SecretKeySpec(raw, "HmacSHA256");
      // A separate key for content hashes, derived so that one key file serves both.
      SecretKeySpec hashKey = new SecretKeySpec(hmac(mac, "lodestar config hash".getBytes(StandardCharsets.UTF_8)),
          "HmacSHA256");
      // The key's public name: tells two keys apart, reveals nothing of either.
      byte[] id = java.util.Arrays.copyOf(hmac(mac, "lodestar secret key id".getBytes(StandardCharsets.UTF_8)),
          KEY_ID_BYTES);
      return new Key(new SecretKeySpec(raw, "AES"), hashKey, id, raw.clone());
    }

    String hexId() {
      return HexFormat.of().formatHex(id);
    }
  }

  // The current key (new secrets are written with it) is replaced by a rotation; retired keys still read.
  private volatile SecretKeySpec key;
  private volatile SecretKeySpec hashKey;
  private volatile byte[] keyId;
  private volatile Key current;
  private final java.util.Map<String, Key> retired = new java.util.concurrent.ConcurrentHashMap<>();
  /** {@code <dataDir>/secret.key} when the key is a file of this node; null when derived from the cluster secret. */
  private Path keyFile;
  /**
   * The cluster secret when the key derives from it, else null. Then the key of generation g is
   * derived from the secret and g, and the generation is replicated state ({@link #followGenerations}):
   * a rotation in a cluster logs only the next generation's number, never a key.
   */
  private byte[] clusterSecret;
  private java.util.function.IntSupplier generations = () -> 0;
  /** The generation {@link #current} is; -1 before the first {@link #sync()}. */
  private volatile int currentGeneration = -1;
  private final SecureRandom random = new SecureRandom();

  private SecretBox(byte[] raw) {
    if (raw == null) {  // a cluster member that was given no key
      return;
    }
    use(Key.of(raw));
  }

  private void use(Key k) {
    this.current = k;
    this.key = k.aes();
    this.hashKey = k.hashKey();
    this.keyId = k.id();
  }

  /** A single node: loads the key file in {@code dataDir}, creating it (0600) when missing. */
  public static SecretBox open(Path dataDir) {
    return open(dataDir, null, true);
  }

  /**
   * The node's key: {@code <dataDir>/secret.key} when it exists (a single node's, or one copied
   * there by hand); else derived from the cluster secret ({@code --cluster-secret-file}, the same
   * file on every member, so every member derives the same key and none invents its own); else,
   * only when {@code mayCreate} (a single node), a new {@code secret.key}. Without any of these
   * the box refuses secrets with a message that says how to give the node its cluster's key.
   */
  public static SecretBox open(Path dataDir, Path clusterSecretFile, boolean mayCreate) {
    Path file = dataDir.resolve(KEY_FILE);
    try {
      Files.createDirectories(dataDir);
      if (!Files.exists(file)) {
        if (clusterSecretFile != null) {
          byte[] secret = io.lodestar.server.storage.ClusterSecret.read(clusterSecretFile);
          SecretBox box = new SecretBox(derive(secret, 0));
          box.clusterSecret = secret;
          box.currentGeneration = 0;
          return box;
        }
        if (!mayCreate) {
          log.info("No secret key ({} absent, no --cluster-secret-file): secret configs are refused until one is "
              + "given", file.toAbsolutePath());
          return new SecretBox(null);
        }
        create(file);
      }
      byte[] raw = Files.readAllBytes(file);
      if (raw.length != 32) {
        throw new IllegalStateException(file + " must hold a 32-byte key; it has " + raw.length + " bytes");
      }
      OwnerOnly.warnIfShared(file);
      SecretBox box = new SecretBox(raw);
      box.keyFile = file;
      box.loadRetired(dataDir.resolve(RETIRED_DIR));
      return box;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create the secret key " + file, e);
    }
  }

  /**
   * The secret-config key of a cluster secret, generation {@code generation}: its own purpose label
   * (with the generation after the first), so other uses of the secret get other keys and each
   * generation its own.
   */
  private static byte[] derive(byte[] clusterSecret, int generation) {
    String label = generation == 0 ? "lodestar secret-config key v1"
        : "lodestar secret-config key v1 generation " + generation;
    return hmac(new SecretKeySpec(clusterSecret, "HmacSHA256"), label.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * A key derived from the cluster secret follows the cluster's key generation, read from the
   * replicated state ({@code ConfigStore#secretKeyGeneration}) whenever the key is used: so every
   * member switches at the same log entry, and a restart finds it again in snapshot and log.
   */
  public void followGenerations(java.util.function.IntSupplier generation) {
    this.generations = generation;
  }

  /** Whether the key derives from the cluster secret (then a rotation goes through the log). */
  public boolean derivedFromClusterSecret() {
    return clusterSecret != null;
  }

  /** Makes the current generation's key current; earlier generations stay readable. */
  private void sync() {
    if (clusterSecret == null) {
      return;
    }
    int g = generations.getAsInt();
    if (g == currentGeneration) {
      return;
    }
    synchronized (this) {
      if (g == currentGeneration) {
        return;
      }
      // every generation up to the newest known is derivable and readable (a restored backup may go back)
      for (int i = 0; i <= Math.max(g, currentGeneration); i++) {
        Key k = Key.of(derive(clusterSecret, i));
        if (i == g) {
          use(k);
          retired.remove(k.hexId());
        } else {
          retired.put(k.hexId(), k);
        }
      }
      currentGeneration = g;
    }
  }

  /**
   * Whether a member reporting key {@code id} at key generation {@code generation} holds this
   * cluster's key: the same id as this node's key, or, for a key derived from the cluster secret,
   * the id this node derives for that generation (a starting node may not have replayed the
   * rotations the member already applied).
   */
  public boolean sameClusterKey(String id, int generation) {
    if (clusterSecret != null) {
      return generation >= 0 && Key.of(derive(clusterSecret, generation)).hexId().equals(id);
    }
    return id.equals(keyId());
  }

  /** The cluster's key generation this node writes with (0 for a key of its own). */
  public int generation() {
    sync();
    return Math.max(0, currentGeneration);
  }

  /** Whether a secret written with key {@code id} can be read here: the current key or a retired one. */
  public boolean canDecrypt(String id) {
    sync();
    return id != null && (id.equals(keyId()) || retired.containsKey(id));
  }

  private void loadRetired(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (var files = Files.list(dir)) {
      for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".key")).toList()) {
        byte[] raw = Files.readAllBytes(p);
        if (raw.length == 32) {
          Key k = Key.of(raw);
          if (!k.hexId().equals(keyId())) {
            retired.put(k.hexId(), k);
          }
        } else {
          log.warn("Ignoring {}: a secret key has 32 bytes, it has {}", p, raw.length);
        }
      }
    }
  }

  /**
   * First step of a rotation: a new key, written to {@code secret-keys/<id>.key} before anything
   * is encrypted with it (so a crash at any later point leaves every ciphertext readable), then made
   * current; the old key stays readable as a retired one. Returns the old and new key ids.
   */
  public synchronized String[] beginRotation() {
    if (keyFile == null) {
      throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION,
          "this node has no secret key to rotate", "secret");
    }
    byte[] raw = new byte[32];
    random.nextBytes(raw);
    Key next = Key.of(raw);
    Key old = current;
    try {
      Path dir = keyFile.resolveSibling(RETIRED_DIR);
      Files.createDirectories(dir);
      writeOwnerOnly(dir.resolve(next.hexId() + ".key"), raw);
      writeOwnerOnly(dir.resolve(old.hexId() + ".key"), old.raw());
      // their names too, before anything is encrypted with the new key: after a power loss a
      // synced file whose name was not is gone, and so is every secret written with it
      DirectorySync.sync(dir);
      DirectorySync.sync(keyFile.toAbsolutePath().getParent());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the new secret key next to " + keyFile, e);
    }
    retired.put(old.hexId(), old);
    use(next);
    log.info("Secret key rotation: new secrets are written with key {}; key {} is retired (still read)",
        next.hexId(), old.hexId());
    return new String[] {old.hexId(), next.hexId()};
  }

  /** Last step: {@code secret.key} becomes the new key (replaced atomically); retired keys stay in {@code secret-keys/}. */
  public synchronized void finishRotation() {
    try {
      Path tmp = keyFile.resolveSibling(KEY_FILE + ".new");
      Files.deleteIfExists(tmp);
      writeOwnerOnly(tmp, current.raw());
      Files.move(tmp, keyFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      DirectorySync.sync(keyFile.toAbsolutePath().getParent());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot replace " + keyFile, e);
    }
  }

  /** The key id of a stored ciphertext, when it is not the current key's (it needs re-encrypting). */
  public boolean isCurrent(ByteString stored) {
    sync();
    return keyId() != null && keyId().equals(keyIdOf(stored));
  }

  private static void writeOwnerOnly(Path file, byte[] raw) throws IOException {
    if (!Files.exists(file)) {
      Files.createFile(file, OwnerOnly.file());
    }
    Files.write(file, raw, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.SYNC);
  }

  /** The key's id (16 hex digits), or null when this node has no key. */
  public String keyId() {
    sync();
    return keyId == null ? null : HexFormat.of().formatHex(keyId);
  }

  /** The id of the key a stored secret was encrypted with; null for the first format, which had none. */
  static String keyIdOf(ByteString stored) {
    if (stored.size() < 1 + KEY_ID_BYTES || stored.byteAt(0) != FORMAT_V2) {
      return null;
    }
    return HexFormat.of().formatHex(stored.substring(1, 1 + KEY_ID_BYTES).toByteArray());
  }

  private void requireKey() {
    if (key == null) {
      throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION,
          "this node has no secret key, so it cannot store secret configs; " + HOW_TO_SHARE, "secret");
    }
  }

  private static void create(Path file) throws IOException {
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    try {
      // Created with its final permissions, so it is never readable by others, not even briefly.
      Files.createFile(file, OwnerOnly.file());
    } catch (FileAlreadyExistsException e) {
      return;  // another process won the race; use its key
    }
    Files.write(file, raw, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
    log.info("Created the secret-config key file {} (owner-only)", file.toAbsolutePath());
  }


  public ByteString encrypt(ConfigKey config, byte[] plaintext) {
    sync();
    requireKey();
    try {
      byte[] iv = new byte[IV_BYTES];
      random.nextBytes(iv);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      Key k = current; // one read: the key and the id stamped with it belong together across a rotation
      c.init(Cipher.ENCRYPT_MODE, k.aes(), new GCMParameterSpec(TAG_BITS, iv));
      c.updateAAD(aad(config));
      byte[] sealed = c.doFinal(plaintext);
      return ByteString.copyFrom(ByteBuffer.allocate(1 + KEY_ID_BYTES + IV_BYTES + sealed.length).put(FORMAT_V2)
          .put(k.id()).put(iv).put(sealed).array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is unavailable", e);
    }
  }

  /**
   * The plaintext of a stored secret. A key this node does not hold is a 503 naming both key ids,
   * not a 500: the content is intact, the node is misconfigured.
   */
  public byte[] decrypt(ConfigKey config, ByteString stored) {
    sync();
    if (key == null) {
      throw new LodestarException(LodestarException.Code.UNAVAILABLE, "secret config " + config
          + " cannot be read through this node: it has no secret key; " + HOW_TO_SHARE, "secret");
    }
    byte[] all = stored.toByteArray();
    int header;
    Key now = current;
    SecretKeySpec with = now.aes();
    if (all.length >= 1 + KEY_ID_BYTES + IV_BYTES && all[0] == FORMAT_V2) {
      String written = keyIdOf(stored);
      if (!written.equals(now.hexId())) {
        Key old = retired.get(written);
        if (old == null) {
          throw wrongKey(config, written);
        }
        with = old.aes();
      }
      header = 1 + KEY_ID_BYTES;
    } else if (all.length >= 1 + IV_BYTES && all[0] == FORMAT_V1) {
      header = 1;
    } else {
      throw new IllegalStateException("secret config " + config + " holds content in an unknown format");
    }
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, with, new GCMParameterSpec(TAG_BITS, all, header, IV_BYTES));
      c.updateAAD(aad(config));
      return c.doFinal(all, header + IV_BYTES, all.length - header - IV_BYTES);
    } catch (GeneralSecurityException e) {
      throw wrongKey(config, null);
    }
  }

  private LodestarException wrongKey(ConfigKey config, String written) {
    return new LodestarException(LodestarException.Code.UNAVAILABLE, "secret config " + config
        + " was encrypted with " + (written == null ? "another secret key" : "secret key " + written)
        + ", not this node's (" + keyId() + "); " + HOW_TO_SHARE, "secret");
  }

  /** The plaintext of one version of a config, decrypting when the config is secret. */
  public byte[] plaintext(ConfigKey config, boolean secret, ConfigVersion v) {
    return secret ? decrypt(config, v.getContent()) : v.getContent().toByteArray();
  }

  /** Content hash: SHA-256 of the plaintext; for secrets a keyed HMAC, so the hash cannot be brute-forced. */
  public String hash(boolean secret, byte[] plaintext) {
    if (secret) {
      sync();
      requireKey();
      return HexFormat.of().formatHex(hmac(current.hashKey(), plaintext));
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
