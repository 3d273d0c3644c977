package io.lodestar.server.xds;

import com.google.common.hash.Hasher;
import com.google.common.hash.Hashing;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ADS stream (state of the world): the node, and per resource type what it subscribed to, the
 * version and nonce last sent, and the versions it ACKed and NACKed. Confined to the xDS thread.
 *
 * <p>A response is sent when the node asks for something new or when what it subscribed to
 * changed — never because it NACKed: the rejected version stays rejected until the resources
 * change (java-control-plane's SimpleCache resends at once and loops). The client keeps using the
 * last version it ACKed meanwhile.
 */
final class AdsStream {
  private static final Logger log = LoggerFactory.getLogger(AdsStream.class);

  /** Per resource type. */
  private static final class TypeState {
    Set<String> names;
    boolean wildcard;
    String sentVersion;
    String sentNonce;
    String ackedVersion;
    String nackedVersion;
  }

  /** What the stream needs to build and count responses. */
  interface Source {
    List<XdsResource> resolve(XdsNode node, XdsType type, Set<String> names, boolean wildcard);

    void sent(XdsType type);

    void nacked(XdsType type);
  }

  private final StreamObserver<DiscoveryResponse> out;
  private final Source source;
  private final Map<XdsType, TypeState> types = new EnumMap<>(XdsType.class);
  private XdsNode node;
  private long nonces;
  private boolean closed;

  AdsStream(StreamObserver<DiscoveryResponse> out, Source source) {
    this.out = out;
    this.source = source;
  }

  XdsNode node() {
    return node;
  }

  void onRequest(DiscoveryRequest req) {
    if (closed) {
      return;
    }
    if (node == null) {
      // grpc-java repeats the node in every request, other clients only in the first: keep it
      node = XdsNode.of(req.getNode());
      log.debug("xDS stream from node {} (namespace {})", node.id(), node.namespace());
    }
    if (log.isDebugEnabled()) {
      log.debug("xDS from node {}: {} {} version {} nonce {}{}", node.id(), req.getTypeUrl(),
          req.getResourceNamesList(), req.getVersionInfo(), req.getResponseNonce(),
          req.hasErrorDetail() ? " NACK " + req.getErrorDetail().getMessage() : "");
    }
    XdsType type = XdsType.of(req.getTypeUrl());
    if (type == null) {
      log.debug("xDS node {} asked for unsupported type {}", node.id(), req.getTypeUrl());
      return;
    }
    TypeState s = types.computeIfAbsent(type, t -> new TypeState());
    String nonce = req.getResponseNonce();
    if (!nonce.isEmpty()) {
      if (!nonce.equals(s.sentNonce)) {
        return; // answers an older response; the newer one is already on its way
      }
      if (req.hasErrorDetail()) {
        s.nackedVersion = s.sentVersion;
        source.nacked(type);
        log.warn("xDS node {} (namespace {}) rejected {} version {}: {}", node.id(), node.namespace(),
            type.name().toLowerCase(java.util.Locale.ROOT), s.sentVersion, req.getErrorDetail().getMessage());
      } else {
        s.ackedVersion = s.sentVersion;
      }
    }
    Set<String> names = new TreeSet<>(req.getResourceNamesList());
    boolean first = s.names == null;
    // "*", or (legacy) an empty first request for Listeners or Clusters: everything of the namespace
    s.wildcard = names.contains("*") || (names.isEmpty() && (first ? type.wholeState : s.wildcard));
    boolean subscriptionChanged = first || !names.equals(s.names);
    s.names = names;
    respond(type, s, subscriptionChanged);
  }

  /** Does this stream hold anything of the service? */
  boolean follows(String namespace, String service) {
    if (node == null || !node.namespace().equals(namespace)) {
      return false;
    }
    for (TypeState s : types.values()) {
      if (s.wildcard) {
        return true;
      }
      if (s.names != null) {
        for (String n : s.names) {
          if (ClusterNames.service(n).equals(service)) {
            return true;
          }
        }
      }
    }
    // Envoy's outbound route table covers every service of the namespace
    return node.envoy();
  }

  /** Sends each type whose subscribed resources changed. */
  void refresh() {
    if (closed || node == null) {
      return;
    }
    for (Map.Entry<XdsType, TypeState> e : types.entrySet()) {
      respond(e.getKey(), e.getValue(), false);
    }
  }

  void close() {
    closed = true;
  }

  /** Ends the stream from the server's side: the node reconnects and keeps what it has meanwhile. */
  void end() {
    if (!closed) {
      closed = true;
      try {
        out.onError(io.grpc.Status.UNAVAILABLE.withDescription("server stopping").asRuntimeException());
      } catch (RuntimeException e) {
        log.debug("xDS stream of node {} already gone", node == null ? "?" : node.id());
      }
    }
  }

  /** The version last ACKed for a type, or null (tests and metrics). */
  String ackedVersion(XdsType type) {
    TypeState s = types.get(type);
    return s == null ? null : s.ackedVersion;
  }

  private void respond(XdsType type, TypeState s, boolean subscriptionChanged) {
    if (s.names == null) {
      return;
    }
    List<XdsResource> resources = source.resolve(node, type, s.names, s.wildcard);
    String version = version(resources);
    if (!subscriptionChanged && version.equals(s.sentVersion)) {
      return;
    }
    DiscoveryResponse.Builder r = DiscoveryResponse.newBuilder()
        .setTypeUrl(type.url)
        .setVersionInfo(version)
        .setNonce(type.ordinal() + "-" + (++nonces));
    for (XdsResource res : resources) {
      r.addResources(res.body());
    }
    s.sentVersion = version;
    s.sentNonce = r.getNonce();
    if (log.isDebugEnabled()) {
      log.debug("xDS to node {}: {} version {} nonce {} ({} of {} asked)", node.id(), type, version, r.getNonce(),
          resources.size(), s.wildcard ? "*" : s.names);
    }
    try {
      out.onNext(r.build());
      source.sent(type);
    } catch (RuntimeException e) {
      // the stream is gone; its onError/onCompleted removes it
      closed = true;
      log.debug("xDS send to node {} failed: {}", node.id(), e.toString());
    }
  }

  /** A type's version: a hash of the names and versions of what the response holds. */
  static String version(List<XdsResource> resources) {
    List<XdsResource> sorted = new ArrayList<>(resources);
    sorted.sort(java.util.Comparator.comparing(XdsResource::name));
    Hasher h = Hashing.murmur3_128().newHasher();
    for (XdsResource r : sorted) {
      h.putString(r.name(), java.nio.charset.StandardCharsets.UTF_8).putLong(r.hash());
    }
    return Long.toHexString(h.hash().asLong());
  }
}
