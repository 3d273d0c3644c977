package io.lodestar.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.lodestar.core.config.ConfigStore;
import io.lodestar.core.config.ConfigView;
import io.lodestar.api.v1.Namespace;
import io.lodestar.core.naming.Registry;
import io.lodestar.server.http.Json;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses to start a node whose secret key is not its cluster's. Two witnesses: the secrets
 * already in this node's state (each ciphertext names the key it was written with), and, in a
 * cluster, the members that answer at start ({@code GET /v1/cluster/node} reports their key id).
 * A member that does not answer proves nothing either way and is skipped; a read through a node
 * whose key is wrong is still a clear 503 ({@link SecretBox#decrypt}).
 */
public final class SecretKeyCheck {
  private static final Logger log = LoggerFactory.getLogger(SecretKeyCheck.class);

  private SecretKeyCheck() {}

  /** Throws when a secret in the state was written with a key other than {@code box}'s. */
  public static void againstState(Registry registry, ConfigStore store, SecretBox box) {
    for (Namespace ns : registry.namespaces()) {
      for (ConfigView v : store.views(ns.getName(), null)) {
        if (!v.secret()) {
          continue;
        }
        String written = SecretBox.keyIdOf(v.released().getContent());
        boolean readable;
        if (written != null) {
          readable = box.canDecrypt(written);
        } else {
          try {
            box.decrypt(v.key(), v.released().getContent());
            readable = true;
          } catch (RuntimeException e) {
            readable = false;
          }
        }
        if (!readable) {
          throw new IllegalStateException("this node's secret key (" + describe(box) + ") is not the one secret "
              + "config " + v.key() + " was encrypted with (" + (written == null ? "an older key" : written)
              + "); " + SecretBox.HOW_TO_SHARE);
        }
      }
    }
  }

  /**
   * Throws when a member that answers reports a different key id, or refuses this node's cluster
   * credential (then the two hold different cluster secrets, hence different keys); members that
   * do not answer are skipped.
   */
  public static void againstPeers(List<String> peerClientAddresses, SecretBox box,
      io.lodestar.server.http.PeerHttp peers) {
    List<CompletableFuture<JsonNode>> asks = new ArrayList<>();
    for (String address : peerClientAddresses) {
      HttpRequest req = peers.get(address, "/v1/cluster/node", Duration.ofSeconds(2)).build();
      asks.add(peers.client().sendAsync(req, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
        if (r.statusCode() == 401 && peers.member()
            && "cluster".equals(Json.parseObject(r.body()).path("error").path("permission").asText())) {
          throw new IllegalStateException("member " + address + " refuses this node's cluster credential: the two "
              + "were given different cluster secrets (so different secret keys too); " + SecretBox.HOW_TO_SHARE);
        }
        if (r.statusCode() != 200) {
          return null; // refused otherwise (an older member, a token needed): proves nothing about the key
        }
        return Json.parseObject(r.body());
      }).exceptionally(e -> {
        Throwable c = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        if (c instanceof IllegalStateException ise) {
          throw ise;
        }
        return null; // unreachable, or no JSON: proves nothing
      }));
    }
    List<String> same = new ArrayList<>();
    for (int i = 0; i < asks.size(); i++) {
      JsonNode answer;
      try {
        answer = asks.get(i).join();
      } catch (java.util.concurrent.CompletionException e) {
        throw e.getCause() instanceof IllegalStateException ise ? ise : e;
      }
      JsonNode id = answer == null ? null : answer.get("secretKeyId");
      String theirs = id == null || id.isNull() ? null : id.asText();
      // a member may have applied rotations this node has not replayed yet: compare at its generation
      if (theirs != null && !box.sameClusterKey(theirs, answer.path("secretKeyGeneration").asInt(0))) {
        throw new IllegalStateException("this node's secret key (" + describe(box) + ") differs from member "
            + peerClientAddresses.get(i) + "'s (" + theirs + "); " + SecretBox.HOW_TO_SHARE);
      }
      if (theirs != null) {
        same.add(peerClientAddresses.get(i));
      }
    }
    log.info("Secret key {}: {}", describe(box), same.isEmpty() ? "no member answered to compare with"
        : "the same as members " + same);
  }

  private static String describe(SecretBox box) {
    return box.keyId() == null ? "none" : box.keyId();
  }
}
