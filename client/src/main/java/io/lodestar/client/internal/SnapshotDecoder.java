package io.lodestar.client.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.client.Instance;
import io.lodestar.client.ServiceSnapshot;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@code ServiceUpdate} snapshot (naming.proto) from its wire bytes straight into the SDK's
 * {@link Instance}s, for a fetch's answer.
 *
 * <p>Why not protobuf's generated parser: a fetch was parsed into 100 generated {@code Instance}s
 * (each a map field around a hash map of entry messages, every string decoded), and then every one
 * was copied into the SDK's {@code Instance} (its metadata map copied again): 46 % of the W4 readers'
 * CPU was protobuf parsing, and the copy most of the rest. This reader makes each instance once.
 * Within one answer, instances with the same metadata share one immutable map, found by the bytes
 * of its entries and decoded once.
 *
 * <p>It reads what {@link Instances#fromProto} reads, with the same defaults (an instance without a
 * weight weighs {@value ServiceSnapshot#DEFAULT_WEIGHT}); fields the SDK does not keep (a persistent
 * instance's health check, unknown fields of newer servers) are skipped. The service's info is
 * small and parsed by protobuf. One decoder per answer: not thread-safe.
 *
 * <p>Not API: {@code io.lodestar.client.internal} may change in any release.
 */
public final class SnapshotDecoder {
  /** A decoded snapshot: what a fetch needs of a {@code ServiceUpdate}. */
  public record Snapshot(long revision, List<Instance> instances, ServiceInfo info) {}

  /** An instance's metadata entry: field 8, length-delimited (one byte). */
  private static final int METADATA_TAG = 8 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;

  private final byte[] buf;
  private final int base;
  private final CodedInputStream in;
  /** The metadata maps of this answer by their entries' bytes. */
  private final ByteRangeTable<Map<String, String>> metadataMaps;

  private SnapshotDecoder(byte[] buf, int offset, int length) {
    this.buf = buf;
    this.base = offset;
    this.in = CodedInputStream.newInstance(buf, offset, length);
    this.metadataMaps = new ByteRangeTable<>(buf);
  }

  /** Decodes {@code length} bytes at {@code offset} of {@code buf}: one {@code ServiceUpdate}. */
  public static Snapshot decode(byte[] buf, int offset, int length) throws InvalidProtocolBufferException {
    try {
      return new SnapshotDecoder(buf, offset, length).update();
    } catch (InvalidProtocolBufferException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new InvalidProtocolBufferException("malformed service snapshot: " + e.getMessage());
    }
  }

  private Snapshot update() throws IOException {
    long revision = 0;
    List<Instance> instances = new ArrayList<>();
    ServiceInfo info = ServiceInfo.getDefaultInstance();
    while (true) {
      int tag = in.readTag();
      switch (tag) {
        case 0 -> {
          return new Snapshot(revision, instances, info);
        }
        case 3 << 3 -> revision = in.readUInt64();
        case 6 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
          int limit = in.pushLimit(in.readRawVarint32());
          instances.add(instance());
          in.popLimit(limit);
        }
        case 8 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
          int length = in.readRawVarint32();
          int at = position();
          in.skipRawBytes(length);  // checks the length against what is there first
          info = ServiceInfo.parser().parseFrom(buf, at, length);
        }
        default -> in.skipField(tag);  // namespace and service (the request's), delta fields
      }
    }
  }

  private Instance instance() throws IOException {
    String id = "";
    String namespace = "";
    String service = "";
    String host = "";
    int port = 0;
    String protocol = "";
    int weight = ServiceSnapshot.DEFAULT_WEIGHT;
    Map<String, String> metadata = Map.of();
    List<String> tags = List.of();
    boolean ephemeral = false;
    Instance.Health health = Instance.Health.UNKNOWN;
    boolean isolated = false;
    long revision = 0;
    int ttlSeconds = 0;
    long registeredAtMs = 0;
    String owner = "";
    String leaseHolder = "";
    while (true) {
      int tag = in.readTag();
      switch (tag) {
        case 0 -> {
          return new Instance(id, namespace, service, host, port, protocol, weight, metadata, tags,
              ephemeral, health, isolated, revision, ttlSeconds, registeredAtMs, owner, leaseHolder);
        }
        case 1 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED -> id = string();
        case 2 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED -> namespace = string();
        case 3 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED -> service = string();
        case 4 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED -> host = string();
        case 5 << 3 -> port = in.readUInt32();
        case 6 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED -> protocol = string();
        case 7 << 3 -> weight = in.readUInt32();
        case METADATA_TAG -> metadata = metadata(metadata);
        case 9 << 3 -> ephemeral = in.readBool();
        case 10 << 3 -> health = health(in.readEnum());
        case 11 << 3 -> revision = in.readUInt64();
        case 12 << 3 -> ttlSeconds = in.readUInt32();
        case 14 << 3 -> registeredAtMs = in.readInt64();
        case 15 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED -> owner = string();
        case 16 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED -> leaseHolder = string();
        case 17 << 3 -> isolated = in.readBool();
        case 18 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
          if (tags.isEmpty()) {
            tags = new ArrayList<>(2);
          }
          tags.add(string());
        }
        default -> in.skipField(tag);  // the health check, check id, removal delay, newer fields
      }
    }
  }

  /**
   * The metadata map whose first entry's tag was just read. Its entries lie side by side (protobuf
   * writes a map field's entries together), so they are looked up by their bytes: instances with the
   * same metadata share one immutable map, and only the first of them decodes it.
   */
  private Map<String, String> metadata(Map<String, String> before) throws IOException {
    int start = position() - 1;  // the tag: one byte
    while (true) {
      in.skipRawBytes(in.readRawVarint32());
      if (in.getBytesUntilLimit() > 0 && buf[position()] == METADATA_TAG) {
        in.readTag();
      } else {
        break;
      }
    }
    int length = position() - start;
    Map<String, String> m = metadataMaps.get(start, length);
    if (m == null) {
      m = decodeMetadata(start, length);
      metadataMaps.put(start, length, m);
    }
    if (!before.isEmpty()) {  // entries split by other fields: legal, if no server writes it
      Map<String, String> merged = new LinkedHashMap<>(before);
      merged.putAll(m);
      m = Map.copyOf(merged);
    }
    return m;
  }

  private Map<String, String> decodeMetadata(int start, int length) throws IOException {
    CodedInputStream entries = CodedInputStream.newInstance(buf, start, length);
    Map<String, String> m = new LinkedHashMap<>();
    while (entries.readTag() != 0) {
      int limit = entries.pushLimit(entries.readRawVarint32());
      String key = "";
      String value = "";
      for (int tag = entries.readTag(); tag != 0; tag = entries.readTag()) {
        if (tag == (1 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
          key = string(entries, buf, start);
        } else if (tag == (2 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
          value = string(entries, buf, start);
        } else {
          entries.skipField(tag);
        }
      }
      entries.popLimit(limit);
      m.put(key, value);  // a repeated key: the last value wins, as protobuf's map fields have it
    }
    return Map.copyOf(m);  // immutable: Instance keeps it as it is, without another copy
  }

  /**
   * A string field. The JDK decodes ASCII (what the registry's names, addresses and most labels
   * are) several times faster than protobuf's checked decoder; protobuf's check runs only when the
   * JDK met something else, so invalid UTF-8 is still refused, as protobuf's parser refuses it.
   */
  private String string() throws IOException {
    return string(in, buf, base);
  }

  private static String string(CodedInputStream in, byte[] buf, int base) throws IOException {
    int length = in.readRawVarint32();
    int at = base + in.getTotalBytesRead();
    in.skipRawBytes(length);  // checks the length against what is there first
    String s = new String(buf, at, length, StandardCharsets.UTF_8);
    // one char per byte and no replacement char: it was ASCII (a Latin-1 string's indexOf of a
    // char above 255 returns at once)
    if ((s.length() != length || s.indexOf('\uFFFD') >= 0) && !ByteString.copyFrom(buf, at, length).isValidUtf8()) {
      throw new InvalidProtocolBufferException("a string field is not valid UTF-8");
    }
    return s;
  }

  /** Where the stream is in {@link #buf}. */
  private int position() {
    return base + in.getTotalBytesRead();
  }

  private static Instance.Health health(int wire) {
    return switch (wire) {
      case 1 -> Instance.Health.HEALTHY;
      case 2 -> Instance.Health.UNHEALTHY;
      default -> Instance.Health.UNKNOWN;
    };
  }

  /**
   * Values by the bytes they were decoded from (offset and length in one answer's buffer), so that
   * the same bytes again are looked up instead of decoded. Open addressing, at most half full.
   */
  private static final class ByteRangeTable<V> {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private final byte[] buf;
    private int[] offsets = new int[64];
    private int[] lengths = new int[64];
    private Object[] values = new Object[64];
    private int size;

    ByteRangeTable(byte[] buf) {
      this.buf = buf;
    }

    @SuppressWarnings("unchecked")
    V get(int at, int length) {
      int mask = values.length - 1;
      for (int slot = hash(at, length) & mask; values[slot] != null; slot = (slot + 1) & mask) {
        if (lengths[slot] == length
            && Arrays.equals(buf, offsets[slot], offsets[slot] + length, buf, at, at + length)) {
          return (V) values[slot];
        }
      }
      return null;
    }

    /** Adds a value whose bytes {@link #get} did not find. */
    void put(int at, int length, V value) {
      insert(at, length, value);
      if (++size * 2 > values.length) {
        grow();
      }
    }

    private void insert(int at, int length, Object value) {
      int mask = values.length - 1;
      int slot = hash(at, length) & mask;
      while (values[slot] != null) {
        slot = (slot + 1) & mask;
      }
      values[slot] = value;
      offsets[slot] = at;
      lengths[slot] = length;
    }

    /** Eight bytes a step: a metadata block is a hundred bytes or more, hashed once per instance. */
    private int hash(int at, int length) {
      long h = length;
      int k = at;
      for (int end = at + length - 7; k < end; k += 8) {
        h = h * 0x9E3779B97F4A7C15L + (long) LONGS.get(buf, k);
      }
      for (int end = at + length; k < end; k++) {
        h = h * 31 + buf[k];
      }
      h *= 0x9E3779B97F4A7C15L;
      return (int) (h ^ (h >>> 32));
    }

    private void grow() {
      int[] oldOffsets = offsets;
      int[] oldLengths = lengths;
      Object[] oldValues = values;
      offsets = new int[oldValues.length * 2];
      lengths = new int[oldValues.length * 2];
      values = new Object[oldValues.length * 2];
      for (int k = 0; k < oldValues.length; k++) {
        if (oldValues[k] != null) {
          insert(oldOffsets[k], oldLengths[k], oldValues[k]);
        }
      }
    }
  }
}
