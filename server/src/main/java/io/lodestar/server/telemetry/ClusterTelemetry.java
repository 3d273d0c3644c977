package io.lodestar.server.telemetry;

import io.lodestar.api.v1.EdgeSeriesList;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * What every node holds for a namespace: this node's slots, and each other member's fetched over
 * its REST port ({@code GET /v1/internal/telemetry/{ns}}, protobuf). A member that does not answer
 * within {@link #PEER_TIMEOUT} is left out and named, so a query degrades instead of failing. The
 * fetch carries the cluster credential (this node authorized the query); in a cluster without a
 * secret, the caller's own credentials travel with it instead and the peer authorizes them.
 */
public final class ClusterTelemetry {
  public static final Duration PEER_TIMEOUT = Duration.ofSeconds(2);

  /** The nodes' slots that answered, and the members that did not. */
  public record Gathered(List<EdgeSeriesList> parts, List<String> unreachable) {}

  private final CallStatsStore local;
  private final Supplier<String> self;
  private final Supplier<List<String>> members;
  private final io.lodestar.server.http.PeerHttp http;

  public ClusterTelemetry(CallStatsStore local, Supplier<String> self, Supplier<List<String>> members,
      io.lodestar.server.http.PeerHttp http) {
    this.http = http;
    this.local = local;
    this.self = self;
    this.members = members;
  }

  /** {@code credentials}: the query's own credential headers, sent on to each peer as they came. */
  public CompletableFuture<Gathered> gather(String namespace, long windowMs, java.util.Map<String, String> credentials) {
    List<CompletableFuture<EdgeSeriesList>> asks = new ArrayList<>();
    List<String> peers = new ArrayList<>();
    String me = self.get();
    for (String m : members.get()) {
      if (m.equals(me)) {
        continue;
      }
      peers.add(m);
      HttpRequest.Builder req = http.get(m, "/v1/internal/telemetry/"
              + java.net.URLEncoder.encode(namespace, java.nio.charset.StandardCharsets.UTF_8) + "?windowMs=" + windowMs,
              PEER_TIMEOUT).header("Accept", "application/x-protobuf");
      if (!http.member()) {
        credentials.forEach(req::header); // no cluster secret: the peer authorizes the caller's own token
      }
      asks.add(http.client().sendAsync(req.build(), HttpResponse.BodyHandlers.ofByteArray()).thenApply(r -> {
        if (r.statusCode() != 200) {
          return null;
        }
        try {
          return EdgeSeriesList.parseFrom(r.body());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          return null;
        }
      }).exceptionally(e -> null));
    }
    EdgeSeriesList mine = local.local(namespace, windowMs);
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(v -> {
      List<EdgeSeriesList> parts = new ArrayList<>();
      List<String> missing = new ArrayList<>();
      parts.add(mine);
      for (int i = 0; i < asks.size(); i++) {
        EdgeSeriesList got = asks.get(i).join();
        if (got == null) {
          missing.add(peers.get(i));
        } else {
          parts.add(got);
        }
      }
      return new Gathered(parts, missing);
    });
  }
}
