package io.lodestar.server.auth;

import com.google.protobuf.ByteString;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.api.v1.state.Token;
import io.lodestar.core.LodestarException;
import io.lodestar.core.auth.Policy;
import io.lodestar.core.auth.TokenStore;
import io.netty.util.AttributeKey;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The one place the server decides who a caller is and whether they may do something. Every
 * surface (REST, the SDK stream, the console, the Consul API, xDS, /metrics) asks it the same
 * questions; the per-protocol decorators only find the token and the permission a request needs.
 */
public final class Authorizer {
  /** The request's principal, set by {@link AuthDecorator} on every request. */
  public static final AttributeKey<Principal> PRINCIPAL = AttributeKey.valueOf(Authorizer.class, "principal");

  private final TokenStore tokens;
  private final boolean enabled;
  private final ClusterCredential cluster;

  public Authorizer(TokenStore tokens, boolean enabled) {
    this(tokens, enabled, null);
  }

  /** @param cluster the proof members show each other; null when the node has no cluster secret */
  public Authorizer(TokenStore tokens, boolean enabled, ClusterCredential cluster) {
    this.tokens = tokens;
    this.enabled = enabled;
    this.cluster = cluster;
  }

  /** Whether this node has a cluster secret, so that it checks members' credentials. */
  public boolean hasClusterSecret() {
    return cluster != null;
  }

  /**
   * The cluster principal when {@code proof} (the {@link ClusterCredential#HEADER} header) is this
   * cluster's credential; null when it is not, or when this node has no cluster secret to check it.
   */
  public Principal authenticateMember(String proof) {
    return cluster != null && cluster.matches(proof) ? Principal.CLUSTER : null;
  }

  /**
   * A cluster-internal endpoint: with a cluster secret on this node, only members that prove they
   * hold it; without one (a single node, or a cluster run without a secret and without auth),
   * {@code action} on {@code namespace} like any request.
   */
  public void checkInternal(Principal p, Policy.Action action, String namespace) {
    if (p.clusterMember()) {
      return;
    }
    if (cluster != null) {
      String why = "this endpoint is for members of the cluster: the call must carry the cluster credential "
          + "(derived from --cluster-secret-file)";
      throw new LodestarException(p.token() ? LodestarException.Code.PERMISSION_DENIED
          : LodestarException.Code.UNAUTHENTICATED, why, "cluster");
    }
    check(p, action, namespace);
  }

  /** Whether the server runs with --auth. */
  public boolean enabled() {
    return enabled;
  }

  /**
   * The principal of a presented secret: null (unknown or revoked) when it matches no token, the
   * anonymous principal when none was presented.
   */
  public Principal authenticate(String secret) {
    if (secret == null || secret.isEmpty()) {
      return Principal.ANONYMOUS;
    }
    // A lookup by digest: the secret itself is never compared, so its timing says nothing about it.
    Token t = tokens.byDigest(digest(secret));
    return t == null ? null : new Principal(t.getName(), Policy.parseAll(t.getPoliciesList()), true);
  }

  /** Whether the principal may do {@code action} on {@code namespace} ("" for cluster-wide). */
  public boolean allows(Principal p, Policy.Action action, String namespace) {
    return !enabled || p.allows(action, namespace);
  }

  /** Throws UNAUTHENTICATED (no token) or PERMISSION_DENIED, naming the permission needed. */
  public void check(Principal p, Policy.Action action, String namespace) {
    if (allows(p, action, namespace)) {
      return;
    }
    String needed = permission(action, namespace);
    if (!p.token()) {
      throw new LodestarException(LodestarException.Code.UNAUTHENTICATED,
          "a token is required (permission needed: " + needed + ")", needed);
    }
    throw new LodestarException(LodestarException.Code.PERMISSION_DENIED,
        "token '" + p.name() + "' lacks permission " + needed, needed);
  }

  /** Requires some valid token when auth is on. */
  public void checkAuthenticated(Principal p) {
    if (enabled && !p.token()) {
      throw new LodestarException(LodestarException.Code.UNAUTHENTICATED, "a token is required", null);
    }
  }

  /** The principal of the current request; anonymous outside one. */
  public static Principal current() {
    ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
    Principal p = ctx == null ? null : ctx.attr(PRINCIPAL);
    return p == null ? Principal.ANONYMOUS : p;
  }

  /** How a permission is written in policies: {@code write:orders}, {@code admin}. */
  public static String permission(Policy.Action action, String namespace) {
    return action == Policy.Action.ADMIN ? "admin" : action.wireName() + ":" + namespace;
  }

  /**
   * SHA-256 of a secret. Tokens are 256 random bits, not passwords: no dictionary reaches them,
   * so a fast unsalted digest is as strong as a slow KDF here and keeps every request cheap.
   */
  public static ByteString digest(String secret) {
    try {
      return ByteString.copyFrom(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JRE", e);
    }
  }
}
