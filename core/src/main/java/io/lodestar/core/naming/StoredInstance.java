package io.lodestar.core.naming;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import io.lodestar.api.v1.HealthCheck;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * An instance as the registry keeps it: primitive fields, strings that repeat shared, and one
 * shared copy of each distinct metadata (and tag) list, instead of a protobuf {@link Instance}
 * with its own map per instance. The wire form is rendered from it when a view is read
 * ({@link #toInstance()}); the two hold the same fields, so rendering gives back an equal message.
 *
 * <p>Immutable as the registry's state, safe to share across threads. One part is not state but
 * this node's bookkeeping: the lease it keeps for an ephemeral instance (last sign of life, the
 * stream that renews it, what it reported of itself, whether this node decides it). It lives here,
 * as a few primitive fields, instead of in a lease object and map entry of its own per instance;
 * it is never replicated, snapshotted or rendered, and the registry carries it over to the object
 * that replaces this one ({@link #carryLeaseFrom}). The lease keeper (the server's health checker)
 * reads and writes it from its own threads, hence volatile.
 */
public final class StoredInstance {
  // Strings and lists that repeat across instances (hosts, protocols, owners, metadata): one copy
  // of each; weak, so those no instance uses any more go away.
  private static final Interner<String> STRINGS = Interners.newWeakInterner();
  private static final Interner<ImmutableList<String>> LISTS = Interners.newWeakInterner();
  private static final int NO_WEIGHT = -1;
  private static final int EPHEMERAL = 1;
  private static final int ISOLATED = 2;

  private final ServiceKey service;
  // the id's Latin-1 bytes when each of its chars fits in one (then the String itself, 24 B per
  // instance, is not kept: id() makes one when asked, and the registry's lookups, sorts and
  // indexes compare the bytes), else the String
  private final Object id;
  // an IPv4 host in canonical dotted form is kept as its 4 bytes (hostV4) and host is null; any
  // other host (a name, IPv6, a non-canonical form) is kept as the string: hosts are mostly unique,
  // so a string and its interner entry cost ~90 B per instance where the int costs 4
  private final String host;
  private final String protocol;
  private final String owner;
  private final String leaseHolder;
  // metadata as [key, value, key, value, ...] in the registrant's order, shared by equal lists
  private final ImmutableList<String> metadata;
  // what few instances have (Consul's tags, check id and check): one shared NONE for the rest, so
  // that they cost one field instead of three
  private final Extras extras;
  private final long revision;
  private final long registeredAtMs;
  private final int hostV4;
  private final int port;
  private final int weight;         // NO_WEIGHT when unset
  private final int ttlSeconds;
  private final int removeAfterSeconds;
  private final byte health;        // HealthStatus number
  // EPHEMERAL | ISOLATED: one byte for both, which keeps the object at 96 B instead of 104 (fields
  // are laid out in 8-byte steps, and the two booleans took the 97th byte)
  private final byte flags;

  // ---- this node's lease for an ephemeral instance (see the class comment)
  /** No lease kept yet: a new ephemeral instance (or one that was persistent). */
  public static final byte LEASE_NEW = 0;
  /** Replaced by an instance whose lease holder differs: the lease starts afresh where it moved. */
  public static final byte LEASE_MOVED = 1;
  /** Replaced with another TTL or removal delay, same holder: keeps its last sign of life. */
  public static final byte LEASE_CHANGED = 2;
  /** Kept; this node decided it at the last walk. */
  public static final byte LEASE_DECIDED = 3;
  /** Kept; another node decides it. */
  public static final byte LEASE_NOT_DECIDED = 4;
  private volatile long leaseSeenNanos;
  private volatile SharedHeartbeat leaseKeepAlive;
  private volatile byte leaseState = LEASE_NEW;
  // what the instance last said of itself while its lease is current (a Consul TTL check may
  // report itself failing): a HealthStatus number, HEALTHY unless told otherwise
  private volatile byte leaseReported = HealthStatus.HEALTHY_VALUE;

  private StoredInstance(ServiceKey service, Instance i) {
    this.service = service;
    this.id = latin1OrString(i.getId());
    String h = i.getHost();
    long v4 = packV4(h);
    this.host = v4 < 0 ? STRINGS.intern(h) : null;
    this.hostV4 = (int) v4;
    this.protocol = STRINGS.intern(i.getProtocol());
    this.owner = STRINGS.intern(i.getOwner());
    this.leaseHolder = STRINGS.intern(i.getLeaseHolder());
    this.metadata = metadataOf(i.getMetadataMap());
    this.extras = i.getTagsCount() == 0 && i.getCheckId().isEmpty() && !i.hasCheck() && !i.hasRegisteredWeight()
        ? Extras.NONE
        : new Extras(i.getTagsCount() == 0 ? ImmutableList.of() : LISTS.intern(internAll(i.getTagsList())),
            i.getCheckId(), i.hasCheck() ? i.getCheck() : null,
            i.hasRegisteredWeight() ? i.getRegisteredWeight() : NO_WEIGHT);
    this.revision = i.getRevision();
    this.registeredAtMs = i.getRegisteredAtMs();
    this.port = i.getPort();
    this.weight = i.hasWeight() ? i.getWeight() : NO_WEIGHT;
    this.ttlSeconds = i.getTtlSeconds();
    this.removeAfterSeconds = i.getRemoveAfterSeconds();
    this.health = (byte) i.getHealthValue();
    this.flags = (byte) ((i.getEphemeral() ? EPHEMERAL : 0) | (i.getIsolated() ? ISOLATED : 0));
  }

  /** The compact form of {@code i}, whose namespace and service are {@code service}'s (shared). */
  public static StoredInstance of(ServiceKey service, Instance i) {
    return new StoredInstance(service, i);
  }

  /** The wire form: a new message equal to the one this was made from. */
  public Instance toInstance() {
    Instance.Builder b = Instance.newBuilder().setId(id()).setNamespace(service.namespace())
        .setService(service.service()).setHost(host()).setPort(port).setProtocol(protocol)
        .setEphemeral(ephemeral()).setHealthValue(health).setRevision(revision).setTtlSeconds(ttlSeconds)
        .setRegisteredAtMs(registeredAtMs).setOwner(owner).setLeaseHolder(leaseHolder).setIsolated(isolated())
        .addAllTags(extras.tags()).setCheckId(extras.checkId()).setRemoveAfterSeconds(removeAfterSeconds);
    if (weight != NO_WEIGHT) {
      b.setWeight(weight);
    }
    for (int k = 0; k < metadata.size(); k += 2) {
      b.putMetadata(metadata.get(k), metadata.get(k + 1));
    }
    if (extras.registeredWeight() != NO_WEIGHT) {
      b.setRegisteredWeight(extras.registeredWeight());
    }
    if (extras.check() != null) {
      b.setCheck(extras.check());
    }
    return b.build();
  }

  public ServiceKey service() {
    return service;
  }

  /** The id (a new String each call when it is kept as bytes: compare with the methods below). */
  public String id() {
    return id instanceof byte[] b ? new String(b, StandardCharsets.ISO_8859_1) : (String) id;
  }

  /** {@code id().hashCode()}, without making the string. */
  public int idHash() {
    if (id instanceof byte[] b) {
      int h = 0;
      for (byte x : b) {
        h = 31 * h + (x & 0xff);
      }
      return h;
    }
    return id.hashCode();
  }

  /** {@code id().equals(other)}, without making the string. */
  public boolean idEquals(String other) {
    if (id instanceof byte[] b) {
      int n = b.length;
      if (other.length() != n) {
        return false;
      }
      for (int k = 0; k < n; k++) {
        if (other.charAt(k) != (b[k] & 0xff)) {
          return false;
        }
      }
      return true;
    }
    return id.equals(other);
  }

  /** Whether the two ids are equal, without making either string. */
  public boolean sameId(StoredInstance other) {
    if (id instanceof byte[] a && other.id instanceof byte[] b) {
      return Arrays.equals(a, b);
    }
    return id.equals(other.id); // two strings; or one of each, never equal (bytes only when Latin-1)
  }

  /** The sign of {@code id().compareTo(other)}, without making the string. */
  public int compareIdTo(String other) {
    if (id instanceof byte[] b) {
      int n = Math.min(b.length, other.length());
      for (int k = 0; k < n; k++) {
        int c = (b[k] & 0xff) - other.charAt(k);
        if (c != 0) {
          return c;
        }
      }
      return b.length - other.length();
    }
    return ((String) id).compareTo(other);
  }

  /** Orders by id as {@code String.compareTo} does (Latin-1 bytes compare unsigned, as their chars). */
  public static int compareIds(StoredInstance a, StoredInstance b) {
    if (a.id instanceof byte[] x && b.id instanceof byte[] y) {
      return Arrays.compareUnsigned(x, y);
    }
    return a.id instanceof byte[] ? -b.compareIdTo(a.id()) : a.compareIdTo(b.id());
  }

  /** The host as registered (an IPv4 address rendered again from its bytes: an equal string). */
  public String host() {
    if (host != null) {
      return host;
    }
    return (hostV4 >>> 24) + "." + ((hostV4 >>> 16) & 0xff) + "." + ((hostV4 >>> 8) & 0xff) + "." + (hostV4 & 0xff);
  }

  /** Kept on heartbeats (soft state its client re-asserts), rather than until it is deregistered. */
  public boolean ephemeral() {
    return (flags & EPHEMERAL) != 0;
  }

  public String owner() {
    return owner;
  }

  public HealthStatus health() {
    HealthStatus h = HealthStatus.forNumber(health);
    return h == null ? HealthStatus.UNRECOGNIZED : h;
  }

  /** An operator's weight is in force (Instance.registered_weight holds the instance's own). */
  public boolean weightSetByOperator() {
    return extras.registeredWeight() != NO_WEIGHT;
  }

  public boolean isolated() {
    return (flags & ISOLATED) != 0;
  }

  public int ttlSeconds() {
    return ttlSeconds;
  }

  /** Extra silence after the TTL before removal; 0: the default (removed after 3 × TTL). */
  public int removeAfterSeconds() {
    return removeAfterSeconds;
  }

  /** The node whose heartbeats keep an ephemeral instance alive; empty on a single node. */
  public String leaseHolder() {
    return leaseHolder;
  }

  // ---- the lease (this node's, not the registry's state: see the class comment)

  /**
   * Takes over the lease kept on {@code old}, the object this one replaces: all of it when the
   * holder, TTL and removal delay stay; its last sign of life when only the TTL or delay changed;
   * a fresh start when the holder changed. The keep-alive and the reported status follow in every
   * case. Nothing when either is persistent.
   */
  void carryLeaseFrom(StoredInstance old) {
    if (old == null || !old.ephemeral() || !ephemeral()) {
      return;
    }
    leaseKeepAlive = old.leaseKeepAlive;
    leaseReported = old.leaseReported;
    if (!old.leaseHolder.equals(leaseHolder)) {
      leaseState = LEASE_MOVED;
      return;
    }
    leaseSeenNanos = old.leaseSeenNanos;
    byte oldState = old.leaseState;
    leaseState = oldState == LEASE_NEW || oldState == LEASE_MOVED ? oldState
        : old.ttlSeconds != ttlSeconds || old.removeAfterSeconds != removeAfterSeconds ? LEASE_CHANGED : oldState;
  }

  /** A renewal of {@code old} that raced with its replacement by this one: the later sign of life wins. */
  void catchUpLease(StoredInstance old) {
    if (old != null && old.ephemeral() && ephemeral() && old.leaseHolder.equals(leaseHolder)) {
      long seen = old.leaseSeenNanos;
      if (seen - leaseSeenNanos > 0) {
        leaseSeenNanos = seen;
      }
      if (leaseKeepAlive == null) {
        leaseKeepAlive = old.leaseKeepAlive;
      }
    }
  }

  public long leaseSeenNanos() {
    return leaseSeenNanos;
  }

  public void leaseSeenNanos(long nanos) {
    leaseSeenNanos = nanos;
  }

  public SharedHeartbeat leaseKeepAlive() {
    return leaseKeepAlive;
  }

  public void leaseKeepAlive(SharedHeartbeat keepAlive) {
    leaseKeepAlive = keepAlive;
  }

  /** One of the {@code LEASE_} states. */
  public byte leaseState() {
    return leaseState;
  }

  public void leaseState(byte state) {
    leaseState = state;
  }

  public HealthStatus leaseReported() {
    HealthStatus h = HealthStatus.forNumber(leaseReported);
    return h == null ? HealthStatus.UNRECOGNIZED : h;
  }

  public void leaseReported(HealthStatus status) {
    leaseReported = (byte) status.getNumber();
  }

  /** The instance's tags, in its order. */
  public List<String> tags() {
    return extras.tags();
  }

  /**
   * The four bytes of a canonical dotted IPv4 address (each part 0-255 in decimal, no leading
   * zero, no sign or space), or -1 for anything else, which is then kept as the string it is: only
   * a form that renders back to the same string is packed.
   */
  static long packV4(String h) {
    int n = h.length();
    if (n < 7 || n > 15) {
      return -1;
    }
    long packed = 0;
    int part = 0;
    int digits = 0;
    int value = 0;
    for (int k = 0; k <= n; k++) {
      char c = k < n ? h.charAt(k) : '.';
      if (c == '.') {
        if (digits == 0 || value > 255 || part == 4) {
          return -1;
        }
        packed = (packed << 8) | value;
        part++;
        digits = 0;
        value = 0;
      } else if (c >= '0' && c <= '9') {
        if (digits > 0 && value == 0) {
          return -1; // a leading zero ("01") would not render back
        }
        value = value * 10 + (c - '0');
        if (++digits > 3) {
          return -1;
        }
      } else {
        return -1;
      }
    }
    return part == 4 ? packed : -1;
  }

  /** @param check null when the instance has none */
  // registeredWeight: an operator's weight is in force (Instance.registered_weight), else NO_WEIGHT
  private record Extras(ImmutableList<String> tags, String checkId, HealthCheck check, int registeredWeight) {
    static final Extras NONE = new Extras(ImmutableList.of(), "", null, NO_WEIGHT);
  }

  private static Object latin1OrString(String s) {
    for (int k = 0; k < s.length(); k++) {
      if (s.charAt(k) > 0xff) {
        return s;
      }
    }
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static ImmutableList<String> metadataOf(Map<String, String> map) {
    if (map.isEmpty()) {
      return ImmutableList.of();
    }
    ImmutableList.Builder<String> b = ImmutableList.builderWithExpectedSize(map.size() * 2);
    map.forEach((k, v) -> b.add(STRINGS.intern(k)).add(STRINGS.intern(v)));
    return LISTS.intern(b.build());
  }

  private static ImmutableList<String> internAll(List<String> values) {
    ImmutableList.Builder<String> b = ImmutableList.builderWithExpectedSize(values.size());
    values.forEach(v -> b.add(STRINGS.intern(v)));
    return b.build();
  }
}
