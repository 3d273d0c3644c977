package io.lodestar.client;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.NamingGrpc;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.client.internal.DecodedCache;
import io.lodestar.client.internal.Instances;
import io.lodestar.client.internal.SnapshotDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * One message from the server on the SDK's stream: a fetch's answer already decoded into the
 * SDK's instances ({@link #fetched}), or any other {@link ServerMessage} as protobuf parses it.
 *
 * <p>Why: a fetch's answer is the one large message a client reads again and again (W4, uncached
 * reads); {@link SnapshotDecoder} makes its instances once instead of building protobuf's and then
 * copying them. Decoding happens where gRPC parses, on the stream's event loop.
 *
 * <p>A service push is decoded once per JVM: the server sends every subscriber of a service the
 * same bytes for one change, so the clients of one JVM that follow it (W2: 50 watchers) get the
 * message and its instances decoded by the first of them ({@link #PUSHES}, compared byte for
 * byte), all immutable, instead of each parsing the same bytes again.
 *
 * @param requestId the request this answers; 0 for pushes
 * @param message the message, or null when {@link #fetched} is set
 * @param fetched a fetch's answer, or null
 * @param upserts a service update's instances in the SDK's form, or null (not a service update)
 */
record Inbound(long requestId, ServerMessage message, SnapshotDecoder.Snapshot fetched, List<Instance> upserts) {
  private static final int REQUEST_ID = 1 << 3 | WireFormat.WIRETYPE_VARINT;
  private static final int FETCHED = ServerMessage.FETCHED_FIELD_NUMBER << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  /**
   * Service pushes decoded by any client of the JVM, by their bytes: a delta of a few instances is
   * a few hundred bytes; a large snapshot is not kept (it comes once per subscription).
   */
  private static final DecodedCache<Inbound> PUSHES = new DecodedCache<>(64, Unmarshaller.PUSH_BYTES);

  /** The stream's method with this type as its response: the stub's, with another unmarshaller. */
  static final MethodDescriptor<ClientMessage, Inbound> CONNECT = NamingGrpc.getConnectMethod()
      .toBuilder(ProtoUtils.marshaller(ClientMessage.getDefaultInstance()), new Unmarshaller())
      .build();

  /** Parses a server message from its bytes; only the client reads this type. */
  static final class Unmarshaller implements MethodDescriptor.Marshaller<Inbound> {
    @Override
    public InputStream stream(Inbound value) {
      throw new UnsupportedOperationException("the SDK never sends a server message");
    }

    /**
     * Per event loop, the bytes of the message being parsed: nothing decoded keeps a reference to
     * them (strings and cache keys are copies, protobuf copies what it parses), so one array serves
     * every message up to its size instead of a new one (zeroed, then filled) per answer.
     */
    static final int SCRATCH_BYTES = 64 << 10;
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[SCRATCH_BYTES]);
    /** Pushes up to this size are looked up and kept in {@link #PUSHES}. */
    private static final int PUSH_BYTES = 4096;

    @Override
    public Inbound parse(InputStream stream) {
      try {
        if (stream instanceof KnownLength) {  // gRPC's own streams: one copy
          int length = stream.available();
          byte[] bytes = length <= SCRATCH_BYTES ? SCRATCH.get() : new byte[length];
          if (stream.readNBytes(bytes, 0, length) != length || stream.read() != -1) {
            throw new IOException("the message's length changed while it was read");
          }
          return parse(bytes, length);
        }
        byte[] bytes = stream.readAllBytes();
        return parse(bytes, bytes.length);
      } catch (IOException e) {
        throw Status.INTERNAL.withDescription("invalid server message: " + e.getMessage()).withCause(e)
            .asRuntimeException();
      }
    }

    static Inbound parse(byte[] bytes) throws InvalidProtocolBufferException {
      return parse(bytes, bytes.length);
    }

    /** The message in {@code bytes[0, length)}; keeps no reference to {@code bytes}. */
    static Inbound parse(byte[] bytes, int length) throws InvalidProtocolBufferException {
      // A fetch's answer is request_id and fetched, nothing else: anything more goes to protobuf.
      CodedInputStream in = CodedInputStream.newInstance(bytes, 0, length);
      long requestId = 0;
      SnapshotDecoder.Snapshot fetched = null;
      try {
        while (true) {
          int tag = in.readTag();
          if (tag == 0) {
            break;
          } else if (tag == REQUEST_ID) {
            requestId = in.readUInt64();
          } else if (tag == FETCHED && fetched == null) {
            int size = in.readRawVarint32();
            int at = in.getTotalBytesRead();
            in.skipRawBytes(size);
            fetched = SnapshotDecoder.decode(bytes, at, size);
          } else {
            fetched = null;
            break;
          }
        }
      } catch (IOException e) {
        fetched = null;  // protobuf says what is wrong with it, below
      }
      if (fetched != null) {
        return new Inbound(requestId, null, fetched, null);
      }
      int hash = length <= PUSH_BYTES ? DecodedCache.hash(bytes, 0, length) : 0;
      Inbound known = length <= PUSH_BYTES ? PUSHES.get(bytes, 0, length, hash) : null;
      if (known != null) {
        return known;
      }
      ServerMessage m = ServerMessage.parser().parseFrom(bytes, 0, length);
      if (m.getBodyCase() != ServerMessage.BodyCase.UPDATE) {
        return new Inbound(m.getRequestId(), m, null, null);
      }
      Inbound update = new Inbound(m.getRequestId(), m, null, Instances.fromProto(m.getUpdate().getInstancesList()));
      if (m.getRequestId() == 0) {  // a push: the same bytes reach every subscriber
        PUSHES.put(bytes, 0, length, hash, update);
      }
      return update;
    }
  }
}
