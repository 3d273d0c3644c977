package io.lodestar.core;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.WireFormat;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.Namespace;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.api.v1.state.AuditSnapshot;
import io.lodestar.api.v1.state.ConfigSnapshot;
import io.lodestar.api.v1.state.KvSnapshot;
import io.lodestar.api.v1.state.RegistrySnapshot;
import io.lodestar.api.v1.state.StateSnapshot;
import io.lodestar.api.v1.state.TokenSnapshot;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.StoredInstance;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link StateSnapshot} streamed instead of built: bytes that parse to what {@code
 * StateSnapshot.toByteArray()} gives for the same state, written (and read back) one instance at a
 * time. A snapshot built whole is a second, protobuf copy of the registry beside its compact one,
 * and its byte array a third: a node with a large registry needed about twice its state in heap at
 * every snapshot and at every start. Here the registry is captured as references to its immutable
 * entries ({@link Registry#capture}) and each instance is rendered to its wire form only while it
 * is written; the small stores (configs, keys, tokens, audit) are captured as protobuf as
 * before.
 *
 * <p>Protobuf writes a message's fields in field-number order, so the registry's services (field
 * 3) all come before its instances (field 4), and its length comes first. Sizing the instances
 * before writing them would render each twice; instead the length is left as a placeholder of
 * fixed width and filled in by the writer of the file ({@link #writeTo}).
 */
public final class StreamedSnapshot {
  private final long appliedIndex;
  private final int featureLevel;
  private final Registry.Captured registry;
  private final ConfigSnapshot configs;
  private final KvSnapshot kv;
  private final TokenSnapshot tokens;
  private final AuditSnapshot audit;

  StreamedSnapshot(long appliedIndex, int featureLevel, Registry.Captured registry, ConfigSnapshot configs,
      KvSnapshot kv, TokenSnapshot tokens, AuditSnapshot audit) {
    this.appliedIndex = appliedIndex;
    this.featureLevel = featureLevel;
    this.registry = registry;
    this.configs = configs;
    this.kv = kv;
    this.tokens = tokens;
    this.audit = audit;
  }

  /**
   * What {@link #writeTo} wrote: {@code size} bytes, whose five at {@code registryLengthAt} (from
   * the first) are to be overwritten with {@code registryLength}.
   */
  public record Written(long size, long registryLengthAt, byte[] registryLength) {}

  /**
   * Writes the snapshot's bytes (then flush {@code out}), rendering each instance once. The
   * registry's length comes before the registry and is known only after it, so it is written as a
   * varint of five bytes that says 0 and is to be overwritten, once the bytes are out, with the
   * five that say its length ({@link Written}). Varints padded so are read by every protobuf
   * parser; with them in place the bytes parse to what {@code StateSnapshot.toByteArray()} gives
   * for the same state, and are its bytes but for those five.
   */
  public Written writeTo(CodedOutputStream out) throws IOException {
    long size = 0;
    if (appliedIndex != 0) {
      out.writeUInt64(1, appliedIndex);
      size += CodedOutputStream.computeUInt64Size(1, appliedIndex);
    }
    out.writeTag(2, WireFormat.WIRETYPE_LENGTH_DELIMITED);
    size += CodedOutputStream.computeTagSize(2);
    long lengthAt = size;
    out.writeRawBytes(paddedVarint32(0));
    size += PADDED;
    // each message's size is memoized by its write: counting it renders nothing again
    long reg = 0;
    if (registry.revision() != 0) {
      out.writeUInt64(1, registry.revision());
      reg += CodedOutputStream.computeUInt64Size(1, registry.revision());
    }
    for (Namespace n : registry.namespaces()) {
      out.writeMessage(2, n);
      reg += CodedOutputStream.computeMessageSize(2, n);
    }
    for (ServiceInfo s : registry.services()) {
      out.writeMessage(3, s);
      reg += CodedOutputStream.computeMessageSize(3, s);
    }
    for (StoredInstance[] service : registry.instances()) {
      for (StoredInstance i : service) {
        Instance m = i.toInstance();
        out.writeMessage(4, m);
        reg += CodedOutputStream.computeMessageSize(4, m);
      }
    }
    if (reg > Integer.MAX_VALUE) {
      throw new IOException("the registry's snapshot is " + reg + " bytes, more than a protobuf message holds");
    }
    size += reg;
    out.writeMessage(3, configs);
    out.writeMessage(4, kv);
    out.writeMessage(5, tokens);
    out.writeMessage(6, audit);
    size += CodedOutputStream.computeMessageSize(3, configs) + CodedOutputStream.computeMessageSize(4, kv)
        + CodedOutputStream.computeMessageSize(5, tokens) + CodedOutputStream.computeMessageSize(6, audit);
    if (featureLevel != 0) {
      out.writeUInt32(7, featureLevel);
      size += CodedOutputStream.computeUInt32Size(7, featureLevel);
    }
    return new Written(size, lengthAt, paddedVarint32((int) reg));
  }

  /** The bytes of a padded varint ({@link #paddedVarint32}). */
  public static final int PADDED = 5;

  /**
   * {@code value} as a varint of exactly five bytes (continuation bits on the first four), so it can
   * be written before the value is known and overwritten in place once it is.
   */
  public static byte[] paddedVarint32(int value) {
    return new byte[] {(byte) (value | 0x80), (byte) ((value >>> 7) | 0x80), (byte) ((value >>> 14) | 0x80),
        (byte) ((value >>> 21) | 0x80), (byte) (value >>> 28)};
  }

  /**
   * Restores {@code into} from a snapshot's bytes, read field by field: the registry's instances
   * are handed to it one at a time, the small stores parsed whole as {@link StateMachine#restore}
   * does. The registry's services must come before its instances, as protobuf writes them.
   */
  public static void restore(CodedInputStream in, StateMachine into) throws IOException {
    read(in, new Sink() {
      private Registry.Restore restore;

      @Override
      public void begin(List<Namespace> namespaces, List<ServiceInfo> services) {
        restore = into.registry().beginRestore(namespaces, services);
      }

      @Override
      public void add(Instance i) {
        restore.add(i);
      }

      @Override
      public void finish(long revision) {
        restore.finish(revision);
      }

      @Override
      public void noRegistry() {
        into.registry().restore(RegistrySnapshot.getDefaultInstance());
      }

      @Override
      public void stores(ConfigSnapshot configs, KvSnapshot kv, TokenSnapshot tokens, AuditSnapshot audit,
          int featureLevel) {
        into.restoreFeatureLevel(featureLevel);
        into.restoreStores(configs, kv, tokens, audit);
      }
    });
  }

  /** What {@link #check} read: a snapshot's namespaces and instances, and the level it was taken at. */
  public record Contents(int namespaces, long instances, int featureLevel) {}

  /**
   * Reads a snapshot's bytes through as {@link #restore} reads them, one instance at a time, and
   * keeps nothing: throws IOException where a restore from them would fail to read. A node checks
   * a backup so before it sends the bytes to every node (a restore through the log).
   */
  public static Contents check(CodedInputStream in) throws IOException {
    int[] namespaces = {0};
    long[] instances = {0};
    int[] level = {0};
    read(in, new Sink() {
      @Override
      public void begin(List<Namespace> ns, List<ServiceInfo> services) {
        namespaces[0] = ns.size();
      }

      @Override
      public void add(Instance i) {
        instances[0]++;
      }

      @Override
      public void stores(ConfigSnapshot configs, KvSnapshot kv, TokenSnapshot tokens, AuditSnapshot audit,
          int featureLevel) {
        level[0] = featureLevel;
      }
    });
    return new Contents(namespaces[0], instances[0], level[0]);
  }

  /** What reading a snapshot hands over, in order: the registry (or none), then the small stores. */
  private interface Sink {
    void begin(List<Namespace> namespaces, List<ServiceInfo> services);

    void add(Instance i);

    default void finish(long revision) {}

    default void noRegistry() {}

    default void stores(ConfigSnapshot configs, KvSnapshot kv, TokenSnapshot tokens, AuditSnapshot audit,
        int featureLevel) {}
  }

  private static void read(CodedInputStream in, Sink sink) throws IOException {
    in.setSizeLimit(Integer.MAX_VALUE);
    ExtensionRegistryLite ext = ExtensionRegistryLite.getEmptyRegistry();
    ConfigSnapshot configs = ConfigSnapshot.getDefaultInstance();
    KvSnapshot kv = KvSnapshot.getDefaultInstance();
    TokenSnapshot tokens = TokenSnapshot.getDefaultInstance();
    AuditSnapshot audit = AuditSnapshot.getDefaultInstance();
    boolean registryRead = false;
    int featureLevel = 0;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case (2 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
          if (registryRead) {
            throw new IOException("snapshot has two registries");
          }
          int limit = in.pushLimit(in.readRawVarint32());
          readRegistry(in, sink, ext);
          in.popLimit(limit);
          registryRead = true;
        }
        case (3 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> configs = in.readMessage(ConfigSnapshot.parser(), ext);
        case (4 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> kv = in.readMessage(KvSnapshot.parser(), ext);
        case (5 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> tokens = in.readMessage(TokenSnapshot.parser(), ext);
        case (6 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> audit = in.readMessage(AuditSnapshot.parser(), ext);
        case (7 << 3) | WireFormat.WIRETYPE_VARINT -> featureLevel = in.readUInt32();
        default -> in.skipField(tag);  // applied_index: the file's header holds it
      }
    }
    if (!registryRead) {
      sink.noRegistry();
    }
    sink.stores(configs, kv, tokens, audit, featureLevel);
  }

  private static void readRegistry(CodedInputStream in, Sink sink, ExtensionRegistryLite ext) throws IOException {
    long revision = 0;
    List<Namespace> namespaces = new ArrayList<>();
    List<ServiceInfo> services = new ArrayList<>();
    boolean begun = false;
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case (1 << 3) | WireFormat.WIRETYPE_VARINT -> revision = in.readUInt64();
        case (2 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
          requireNoInstancesYet(begun);
          namespaces.add(in.readMessage(Namespace.parser(), ext));
        }
        case (3 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
          requireNoInstancesYet(begun);
          services.add(in.readMessage(ServiceInfo.parser(), ext));
        }
        case (4 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
          if (!begun) {
            sink.begin(namespaces, services);
            begun = true;
          }
          sink.add(in.readMessage(Instance.parser(), ext));
        }
        default -> in.skipField(tag);
      }
    }
    if (!begun) {
      sink.begin(namespaces, services);
    }
    sink.finish(revision);
  }

  private static void requireNoInstancesYet(boolean begun) throws IOException {
    if (begun) {
      throw new IOException("snapshot has a namespace or service after instances: not written by Lodestar");
    }
  }
}
