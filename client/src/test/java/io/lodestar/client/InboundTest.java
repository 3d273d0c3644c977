package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import io.lodestar.api.v1.HealthCheck;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.api.v1.ServiceUpdate;
import io.lodestar.api.v1.TcpCheck;
import io.lodestar.client.internal.Instances;
import io.lodestar.client.internal.SnapshotDecoder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A fetch's answer, decoded from protobuf's own encoding: the SDK's direct decoder must give what
 * protobuf's parser and {@link Instances#fromProto} give, field for field.
 */
class InboundTest {

  private static io.lodestar.api.v1.Instance.Builder proto(int i) {
    return io.lodestar.api.v1.Instance.newBuilder().setId("i-" + i).setNamespace("default").setService("svc")
        .setHost("10.0.0." + i).setPort(8000 + i).setProtocol("grpc").setEphemeral(true)
        .setHealth(HealthStatus.HEALTHY).setRevision(40 + i).setTtlSeconds(10).setRegisteredAtMs(1_700_000_000_000L + i)
        .setOwner("client-1").putMetadata("version", "1.4." + (i % 3)).putMetadata("zone", "zone-" + (i % 2))
        .putMetadata("region", "region-1");
  }

  private static ServiceUpdate snapshot(List<io.lodestar.api.v1.Instance> instances) {
    return ServiceUpdate.newBuilder().setNamespace("default").setService("svc").setRevision(77).setSnapshot(true)
        .addAllInstances(instances).setInfo(ServiceInfo.newBuilder().setNamespace("default").setName("svc")
            .setProtectThreshold(0.7).putMetadata("team", "payments"))
        .build();
  }

  private static Inbound parse(ServerMessage m) throws InvalidProtocolBufferException {
    return Inbound.Unmarshaller.parse(m.toByteArray());
  }

  @Test
  void aFetchedSnapshotDecodesAsProtobufParsesIt() throws Exception {
    List<io.lodestar.api.v1.Instance> instances = List.of(
        proto(1).build(),
        proto(2).setWeight(0).addTags("blue").addTags("canary").setIsolated(true).build(),  // weight 0 is set
        proto(3).setHealth(HealthStatus.UNHEALTHY).setWeight(250).setLeaseHolder("n2").build(),
        proto(4).clearMetadata().setEphemeral(false).setTtlSeconds(0).setHealth(HealthStatus.HEALTH_UNKNOWN)
            .setCheck(HealthCheck.newBuilder().setTcp(TcpCheck.newBuilder().setAddress("10.0.0.4:1")))
            .setCheckId("tcp").setRemoveAfterSeconds(30).setOwner("").build(),
        proto(5).putMetadata("note", "ünïcödé ✓ " + "x".repeat(100)).build(),  // past the shared strings' bound
        proto(7).build(),  // the same metadata as instance 1
        proto(8).setWeight(0).setRegisteredWeight(40).build());  // an operator's drain
    ServiceUpdate update = snapshot(instances);

    Inbound in = parse(ServerMessage.newBuilder().setRequestId(42).setFetched(update).build());

    assertThat(in.requestId()).isEqualTo(42);
    assertThat(in.message()).isNull();
    SnapshotDecoder.Snapshot s = in.fetched();
    assertThat(s.revision()).isEqualTo(77);
    assertThat(s.info()).isEqualTo(update.getInfo());
    assertThat(s.instances()).containsExactlyElementsOf(Instances.fromProto(update.getInstancesList()));
    assertThat(s.instances().get(0).weight()).isEqualTo(ServiceSnapshot.DEFAULT_WEIGHT);
    assertThat(s.instances().get(1).weight()).isZero();
    assertThat(s.instances().get(1).tags()).containsExactly("blue", "canary");
    assertThat(s.instances().get(6).registeredWeight()).hasValue(40);
    assertThat(s.instances().get(6).weightSetByOperator()).isTrue();
    assertThat(s.instances().get(0).registeredWeight()).isEmpty();
    // and the failover cache's files keep it
    assertThat(Instances.fromProto(Instances.toProto(s.instances().get(6)))).isEqualTo(s.instances().get(6));
    // identical metadata within one answer is one map, kept by both instances as it is
    assertThat(s.instances().get(5).metadata()).isSameAs(s.instances().get(0).metadata());
  }

  @Test
  void anInstanceMetAgainIsTheOneDecodedBeforeAndAChangedOneIsDecodedAgain() throws Exception {
    ServiceUpdate first = snapshot(List.of(proto(11).build(), proto(12).build()));
    ServiceUpdate next = snapshot(List.of(proto(11).build(), proto(12).setRevision(99).setWeight(7).build()));

    List<Instance> a = parse(ServerMessage.newBuilder().setRequestId(1).setFetched(first).build()).fetched().instances();
    List<Instance> b = parse(ServerMessage.newBuilder().setRequestId(2).setFetched(next).build()).fetched().instances();

    // the same bytes in a later answer: the same immutable value, not decoded again
    assertThat(b.get(0)).isSameAs(a.get(0));
    // one byte differs: decoded from its own bytes, its metadata map (same entries) shared
    assertThat(b.get(1)).isNotSameAs(a.get(1)).isEqualTo(Instances.fromProto(next.getInstances(1)));
    assertThat(b.get(1).revision()).isEqualTo(99);
    assertThat(b.get(1).weight()).isEqualTo(7);
    assertThat(b.get(1).metadata()).isSameAs(a.get(1).metadata());
    assertThat(b).containsExactlyElementsOf(Instances.fromProto(next.getInstancesList()));
  }

  @Test
  void readersOnSeveralThreadsDecodeTheSameAnswersRight() throws Exception {
    // more distinct instances than the cache has slots for: entries replace each other under the readers
    List<byte[]> answers = new java.util.ArrayList<>();
    List<List<Instance>> expected = new java.util.ArrayList<>();
    for (int k = 0; k < 8; k++) {
      List<io.lodestar.api.v1.Instance> instances = new java.util.ArrayList<>();
      for (int i = 0; i < 400; i++) {
        instances.add(proto(k * 1000 + i).build());
      }
      ServiceUpdate u = snapshot(instances);
      answers.add(ServerMessage.newBuilder().setRequestId(k + 1).setFetched(u).build().toByteArray());
      expected.add(Instances.fromProto(u.getInstancesList()));
    }
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int offset = t;
        done.add(pool.submit(() -> {
          for (int n = 0; n < 40; n++) {
            int k = (n + offset) % answers.size();
            assertThat(Inbound.Unmarshaller.parse(answers.get(k)).fetched().instances())
                .containsExactlyElementsOf(expected.get(k));
          }
          return null;
        }));
      }
      for (java.util.concurrent.Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void manyDistinctStringsAndMapsStillDecodeRight() throws Exception {
    // more distinct metadata maps than the table's first size, so it grows while it is read
    List<io.lodestar.api.v1.Instance> instances = new java.util.ArrayList<>();
    for (int i = 0; i < 300; i++) {
      instances.add(proto(i).putMetadata("k" + i, "v" + i).build());
    }
    ServiceUpdate update = snapshot(instances);
    SnapshotDecoder.Snapshot s = parse(ServerMessage.newBuilder().setRequestId(1).setFetched(update).build()).fetched();
    assertThat(s.instances()).containsExactlyElementsOf(Instances.fromProto(update.getInstancesList()));
  }

  @Test
  void anEmptyAnswerAndFieldsOfNewerServersDecode() throws Exception {
    Inbound empty = parse(ServerMessage.newBuilder().setRequestId(3).setFetched(ServiceUpdate.getDefaultInstance())
        .build());
    assertThat(empty.fetched().instances()).isEmpty();
    assertThat(empty.fetched().info()).isEqualTo(ServiceInfo.getDefaultInstance());

    // a field this SDK does not know, in the update and in an instance: skipped
    UnknownFieldSet newer = UnknownFieldSet.newBuilder()
        .addField(99, UnknownFieldSet.Field.newBuilder().addLengthDelimited(com.google.protobuf.ByteString
            .copyFromUtf8("later")).addVarint(5).build()).build();
    ServiceUpdate update = snapshot(List.of(proto(1).setUnknownFields(newer).build())).toBuilder()
        .setUnknownFields(newer).build();
    SnapshotDecoder.Snapshot s = parse(ServerMessage.newBuilder().setRequestId(4).setFetched(update).build()).fetched();
    assertThat(s.instances()).containsExactlyElementsOf(Instances.fromProto(update.getInstancesList()));
  }

  @Test
  void everyOtherMessageIsProtobufs() throws Exception {
    ServerMessage error = ServerMessage.newBuilder().setRequestId(9).setError(io.lodestar.api.v1.Error.newBuilder()
        .setCode("not_found").setMessage("no namespace")).build();
    Inbound in = parse(error);
    assertThat(in.fetched()).isNull();
    assertThat(in.requestId()).isEqualTo(9);
    assertThat(in.message()).isEqualTo(error);

    ServerMessage push = ServerMessage.newBuilder().setUpdate(snapshot(List.of(proto(1).build()))).build();
    assertThat(parse(push).message()).isEqualTo(push);
  }

  @Test
  void invalidUtf8IsRefusedAsProtobufRefusesIt() throws Exception {
    byte[] bytes = snapshot(List.of(proto(1).setHost("10.0.0.9").build())).toByteArray();
    byte[] host = "10.0.0.9".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    for (byte bad : new byte[] {(byte) 0x80, (byte) 0xC3}) {  // a lone continuation; a lead byte cut short
      byte[] broken = bytes.clone();
      broken[indexOf(broken, host) + host.length - 1] = bad;
      assertThatThrownBy(() -> ServiceUpdate.parseFrom(broken)).isInstanceOf(InvalidProtocolBufferException.class);
      assertThatThrownBy(() -> SnapshotDecoder.decode(broken, 0, broken.length))
          .isInstanceOf(InvalidProtocolBufferException.class);
    }
    // and valid non-ASCII text decodes
    ServiceUpdate accented = snapshot(List.of(proto(1).putMetadata("ville", "Zürich").setProtocol("ü").build()));
    byte[] ok = accented.toByteArray();
    assertThat(SnapshotDecoder.decode(ok, 0, ok.length).instances())
        .containsExactlyElementsOf(Instances.fromProto(accented.getInstancesList()));
  }

  private static int indexOf(byte[] in, byte[] part) {
    for (int i = 0; i + part.length <= in.length; i++) {
      if (Arrays.equals(in, i, i + part.length, part, 0, part.length)) {
        return i;
      }
    }
    throw new AssertionError("not found");
  }

  @Test
  void answersReadThroughTheReusedBufferKeepNothingOfIt() {
    ServiceUpdate update = snapshot(List.of(proto(21).putMetadata("only", "here").build(), proto(22).build()));
    ServerMessage error = ServerMessage.newBuilder().setRequestId(7).setError(io.lodestar.api.v1.Error.newBuilder()
        .setCode("not_found").setMessage("no namespace")).build();
    List<io.lodestar.api.v1.Instance> many = new java.util.ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      many.add(proto(30_000 + i).build());
    }
    ServiceUpdate large = snapshot(many);  // past the reused buffer's size: read into its own array
    assertThat(large.getSerializedSize()).isGreaterThan(Inbound.Unmarshaller.SCRATCH_BYTES);
    var grpc = io.grpc.protobuf.ProtoUtils.marshaller(ServerMessage.getDefaultInstance());
    Inbound.Unmarshaller u = new Inbound.Unmarshaller();

    // gRPC hands the unmarshaller a KnownLength stream: read into this thread's buffer, which the next overwrites
    Inbound a = u.parse(grpc.stream(ServerMessage.newBuilder().setRequestId(6).setFetched(update).build()));
    Inbound b = u.parse(grpc.stream(error));
    Inbound c = u.parse(grpc.stream(ServerMessage.newBuilder().setRequestId(8).setFetched(large).build()));
    Inbound d = u.parse(grpc.stream(ServerMessage.newBuilder().setRequestId(9).setFetched(snapshot(List.of()))
        .build()));

    assertThat(a.requestId()).isEqualTo(6);
    assertThat(a.fetched().instances()).containsExactlyElementsOf(Instances.fromProto(update.getInstancesList()));
    assertThat(a.fetched().info()).isEqualTo(update.getInfo());
    assertThat(b.message()).isEqualTo(error);
    assertThat(c.fetched().instances()).containsExactlyElementsOf(Instances.fromProto(large.getInstancesList()));
    assertThat(d.requestId()).isEqualTo(9);
    assertThat(d.fetched().instances()).isEmpty();
  }

  @Test
  void aPushIsDecodedOnceForEveryClientThatReadsTheSameBytes() throws Exception {
    ServiceUpdate delta = ServiceUpdate.newBuilder().setNamespace("default").setService("svc").setRevision(91)
        .setBaseRevision(90).addInstances(proto(61).build()).addInstances(proto(62).setWeight(5).build())
        .addRemovedIds("i-60").build();
    ServiceUpdate next = delta.toBuilder().setRevision(92).setBaseRevision(91).setInstances(0, proto(63)).build();
    ServerMessage answer = ServerMessage.newBuilder().setRequestId(3).setUpdate(delta).build();

    Inbound first = parse(ServerMessage.newBuilder().setUpdate(delta).build());
    Inbound second = parse(ServerMessage.newBuilder().setUpdate(delta).build());  // another watcher's stream
    Inbound other = parse(ServerMessage.newBuilder().setUpdate(next).build());
    Inbound answered = parse(answer);

    assertThat(first.message().getUpdate()).isEqualTo(delta);
    assertThat(first.upserts()).containsExactlyElementsOf(Instances.fromProto(delta.getInstancesList()));
    assertThat(second).isSameAs(first);  // the same bytes: decoded once, shared (immutable)
    assertThat(other.message().getUpdate()).isEqualTo(next);  // other bytes: decoded on their own
    assertThat(other.upserts()).containsExactlyElementsOf(Instances.fromProto(next.getInstancesList()));
    assertThat(answered.requestId()).isEqualTo(3);
    assertThat(answered.upserts()).containsExactlyElementsOf(first.upserts());
    assertThat(parse(answer)).isNotSameAs(answered);  // an answer is its request's: not kept
  }

  @Test
  void aTruncatedAnswerIsRefused() {
    byte[] whole = ServerMessage.newBuilder().setRequestId(5).setFetched(snapshot(List.of(proto(1).build(),
        proto(2).build()))).build().toByteArray();
    for (int cut : new int[] {whole.length - 1, whole.length / 2, 3}) {
      assertThatThrownBy(() -> Inbound.Unmarshaller.parse(Arrays.copyOf(whole, cut)))
          .isInstanceOf(InvalidProtocolBufferException.class);
    }
  }
}
