package io.lodestar.client.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.client.Instance;
import io.lodestar.client.ServiceSnapshot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Reads a {@code ServiceUpdate} snapshot (naming.proto) from its wire bytes straight into the SDK's
 * {@link Instance}s, for a fetch's answer.
 *
 * <p>Why not protobuf's generated parser: a fetch was parsed into 100 generated {@code Instance}s
 * (each a map field around a hash map of entry messages, every string decoded), and then every one
 * was copied into the SDK's {@code Instance} (its metadata map copied again): 46 % of the W4 readers'
 * CPU was protobuf parsing, and the copy most of the rest. This reader makes each instance once.
 * Instances with the same metadata share one immutable map, found by the bytes of its entries and
 * decoded once; an instance whose bytes were met before (the same instance in the next answer) is
 * the one decoded then ({@link DecodedCache}: bounded, compared byte for byte).
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

  /*
   * Decoded values by their bytes, kept across answers and shared by the JVM's clients (every one
   * immutable): an instance answer after answer, a metadata block that many instances carry, the
   * service's info. Bounded: at most ~2 MB of keys and values.
   */
  private static final DecodedCache<Instance> INSTANCES = new DecodedCache<>(2048, 512);
  private static final DecodedCache<Map<String, String>> METADATA = new DecodedCache<>(512, 512);
  private static final DecodedCache<ServiceInfo> INFOS = new DecodedCache<>(64, 4096);

  private final byte[] buf;
  private final int base;
  private final CodedInputStream in;

  private SnapshotDecoder(byte[] buf, int offset, int length) {
    this.buf = buf;
    this.base = offset;
    this.in = CodedInputStream.newInstance(buf, offset, length);
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
        case 6 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED -> instances.add(cachedInstance());
        case 8 << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
          int length = in.readRawVarint32();
          int at = position();
          in.skipRawBytes(length);  // checks the length against what is there first
          int h = DecodedCache.hash(buf, at, length);
          info = INFOS.get(buf, at, length, h);
          if (info == null) {
            info = ServiceInfo.parser().parseFrom(buf, at, length);
            INFOS.put(buf, at, length, h, info);
          }
        }
        default -> in.skipField(tag);  // namespace and service (the request's), delta fields
      }
    }
  }

  /**
   * The instance whose length was just read: the one decoded from the same bytes before if there
   * is one (the bytes are all there and compared whole), else decoded now and kept.
   */
  private Instance cachedInstance() throws IOException {
    int length = in.readRawVarint32();
    int limit = in.pushLimit(length);  // refuses a length past what is there
    int at = position();
    int h = DecodedCache.hash(buf, at, length);
    Instance i = INSTANCES.get(buf, at, length, h);
    if (i != null) {
      in.skipRawBytes(length);
    } else {
      i = instance();
      INSTANCES.put(buf, at, length, h, i);
    }
    in.popLimit(limit);
    return i;
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
    OptionalInt registeredWeight = OptionalInt.empty();
    while (true) {
      int tag = in.readTag();
      switch (tag) {
        case 0 -> {
          return new Instance(id, namespace, service, host, port, protocol, weight, metadata, tags,
              ephemeral, health, isolated, revision, ttlSeconds, registeredAtMs, owner, leaseHolder,
              registeredWeight);
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
        case 21 << 3 -> registeredWeight = OptionalInt.of(in.readUInt32());
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
   * same metadata share one immutable map, and only the first of them (in this answer or an
   * earlier one) decodes it.
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
    int h = DecodedCache.hash(buf, start, length);
    Map<String, String> m = METADATA.get(buf, start, length, h);
    if (m == null) {
      m = decodeMetadata(start, length);
      METADATA.put(buf, start, length, h, m);
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
}
