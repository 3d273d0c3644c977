package io.lodestar.server.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What a member shows another to prove it holds the cluster secret ({@code --cluster-secret-file}):
 * an HMAC-SHA256 of the secret under its own purpose label, sent in the {@value #HEADER} header on
 * every node-to-node call. The secret itself never crosses the network, and the label keeps this
 * value apart from every other key derived from the secret (the secret-config key, rotation keys).
 * Like a token it is a bearer proof: serve TLS whenever members talk over a network that is not
 * private. It is never logged ({@link #toString()} hides it).
 */
public final class ClusterCredential {
  /** The request header that carries the proof; the Authorizer turns it into the cluster principal. */
  public static final String HEADER = "x-lodestar-cluster";
  private static final byte[] LABEL = "lodestar cluster-internal calls v1".getBytes(StandardCharsets.UTF_8);

  private final byte[] value;

  private ClusterCredential(byte[] value) {
    this.value = value;
  }

  /** The proof every member holding {@code clusterSecret} derives alike. */
  public static ClusterCredential derive(byte[] clusterSecret) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(clusterSecret, "HmacSHA256"));
      return new ClusterCredential(Base64.getUrlEncoder().withoutPadding().encode(mac.doFinal(LABEL)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
    }
  }

  /** The header value to send. */
  public String headerValue() {
    return new String(value, StandardCharsets.US_ASCII);
  }

  /** Whether a presented header value is this proof; compared in constant time. */
  public boolean matches(String presented) {
    return presented != null && MessageDigest.isEqual(value, presented.trim().getBytes(StandardCharsets.US_ASCII));
  }

  @Override
  public String toString() {
    return "ClusterCredential[hidden]";
  }
}
