package io.lodestar.client.route;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What a router, a rate limiter or a hash balancer may know about one call: its method (or path),
 * labels, headers and hash key. Immutable, so one context can be built once and reused for many
 * calls: {@code choose()} then allocates nothing. Header names are case-insensitive (stored
 * lower-case); the hash key's hash is computed once, here.
 */
public final class CallContext {
  private static final CallContext EMPTY = builder().build();

  private final String method;
  private final Map<String, String> labels;
  private final Map<String, String> headers;
  private final String hashKey;
  private final long hashKeyHash;

  private CallContext(Builder b) {
    method = b.method;
    labels = Map.copyOf(b.labels);
    headers = Map.copyOf(b.headers);
    hashKey = b.hashKey;
    hashKeyHash = hashKey == null ? 0 : io.lodestar.client.lb.Hashing.hash(hashKey);
  }

  public static CallContext empty() {
    return EMPTY;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The method or path; "" when not given. */
  public String method() {
    return method;
  }

  public String label(String key) {
    return labels.get(key);
  }

  /** A header's value; the name is matched case-insensitively (pass it lower-case to avoid work). */
  public String header(String lowerCaseName) {
    return headers.get(lowerCaseName);
  }

  public Map<String, String> labels() {
    return labels;
  }

  public Map<String, String> headers() {
    return headers;
  }

  /** The key hash balancers use, or null. */
  public String hashKey() {
    return hashKey;
  }

  public long hashKeyHash() {
    return hashKeyHash;
  }

  public static final class Builder {
    private String method = "";
    private final Map<String, String> labels = new HashMap<>();
    private final Map<String, String> headers = new HashMap<>();
    private String hashKey;

    private Builder() {}

    public Builder method(String method) {
      this.method = Objects.requireNonNull(method, "method");
      return this;
    }

    public Builder label(String key, String value) {
      labels.put(Objects.requireNonNull(key, "label key"), Objects.requireNonNull(value, "label value"));
      return this;
    }

    public Builder labels(Map<String, String> labels) {
      labels.forEach(this::label);
      return this;
    }

    public Builder header(String name, String value) {
      headers.put(Objects.requireNonNull(name, "header name").toLowerCase(Locale.ROOT),
          Objects.requireNonNull(value, "header value"));
      return this;
    }

    public Builder hashKey(String key) {
      this.hashKey = Objects.requireNonNull(key, "hashKey");
      return this;
    }

    public CallContext build() {
      return new CallContext(this);
    }
  }
}
