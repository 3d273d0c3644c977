package io.lodestar.server.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpResponse;
import io.lodestar.api.v1.ConfigVersion;
import io.lodestar.api.v1.Namespace;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.ReencryptSecret;
import io.lodestar.api.v1.state.ReencryptedVersion;
import io.lodestar.core.LodestarException;
import io.lodestar.core.config.ConfigStore;
import io.lodestar.core.config.ConfigView;
import io.lodestar.core.naming.Registry;
import io.lodestar.server.http.Json;
import io.lodestar.server.http.Routes;
import io.lodestar.server.storage.CommandLog;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/secrets/rotate} ({@code lodestar secrets rotate}): every secret config's kept
 * versions re-encrypted under a new key, through the log, one {@code ReencryptSecret} command per
 * config. The order keeps every ciphertext readable whatever fails or crashes in between: the new
 * key is written to {@code secret-keys/} and made current first (new publishes use it), the old
 * one stays readable as retired, the re-encryptions are logged, and only then does
 * {@code secret.key} become the new key. A retired key stays in {@code secret-keys/}: older
 * backups and snapshots need it. One rotation at a time.
 *
 * <p>In a cluster the key derives from the cluster secret, so no key file is replaced: the log
 * carries the next key generation's number ({@link #nextGeneration}) and every member derives its
 * key, then the re-encryptions follow through the log as on a single node.
 */
public final class SecretRotation implements Routes.Owner {
  private static final Logger log = LoggerFactory.getLogger(SecretRotation.class);
  private final Registry registry;
  private final ConfigStore store;
  private final CommandLog commandLog;
  private final SecretBox box;
  private final AtomicBoolean running = new AtomicBoolean();

  public SecretRotation(Registry registry, ConfigStore store, CommandLog commandLog, SecretBox box) {
    this.registry = registry;
    this.store = store;
    this.commandLog = commandLog;
    this.box = box;
  }

  @Override
  public void bind(Routes routes) {
    routes.blocking(HttpMethod.POST, "/v1/secrets/rotate", "rotate", c -> rotate(c.request()));
  }

  public HttpResponse rotate(com.linecorp.armeria.common.AggregatedHttpRequest req) {
    io.lodestar.server.http.Json.requireNoBody(req); // {"x":1} rotated the key all the same
    if (!running.compareAndSet(false, true)) {
      throw new LodestarException(LodestarException.Code.CONFLICT, "a secret key rotation is already running", null);
    }
    try {
      String[] ids = box.derivedFromClusterSecret() ? nextGeneration() : box.beginRotation();
      int configs = 0;
      int versions = 0;
      List<CompletableFuture<?>> writes = new ArrayList<>();
      for (Namespace ns : registry.namespaces()) {
        for (ConfigView v : store.views(ns.getName(), null)) {
          if (!v.secret() || v.deleted()) {
            continue;
          }
          ReencryptSecret.Builder cmd = ReencryptSecret.newBuilder().setNamespace(v.key().namespace())
              .setGroup(v.key().group()).setName(v.key().name());
          for (ConfigVersion old : v.history()) {
            if (box.isCurrent(old.getContent())) {
              continue;
            }
            byte[] plain = box.decrypt(v.key(), old.getContent());
            ByteString sealed = box.encrypt(v.key(), plain);
            cmd.addVersions(ReencryptedVersion.newBuilder().setVersion(old.getVersion()).setContent(sealed)
                .setHash(box.hash(true, plain)));
          }
          if (cmd.getVersionsCount() > 0) {
            configs++;
            versions += cmd.getVersionsCount();
            writes.add(commandLog.submit(Command.newBuilder().setReencryptSecret(cmd).build()));
          }
        }
      }
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
      if (!box.derivedFromClusterSecret()) {
        box.finishRotation();
      }
      log.info("Secret key rotated: {} -> {}; {} versions of {} secret configs re-encrypted through the log",
          ids[0], ids[1], versions, configs);
      ObjectNode o = Json.object();
      o.put("oldKeyId", ids[0]).put("newKeyId", ids[1]).put("configs", configs).put("versions", versions);
      return Json.ok(o);
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof LodestarException le) {
        throw le;
      }
      throw e;
    } finally {
      running.set(false);
    }
  }

  /**
   * A cluster's rotation: the next key generation goes through the log as a number only; every
   * member, applying it, derives that generation's key from the cluster secret and writes with it
   * from that entry on. The write is acknowledged once this node applied it, so the
   * re-encryptions that follow use the new key; a concurrent rotation through another member
   * loses at apply (the generation must follow the current one) and is answered 409.
   */
  private String[] nextGeneration() {
    String old = box.keyId();
    int next = store.secretKeyGeneration() + 1;
    commandLog.submit(Command.newBuilder().setRotateSecretKey(
        io.lodestar.api.v1.state.RotateSecretKey.newBuilder().setGeneration(next)).build()).join();
    log.info("Secret key rotation: key generation {} is current (key {}); key {} is retired (still read)", next,
        box.keyId(), old);
    return new String[] {old, box.keyId()};
  }
}
