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
        proto(7).build());  // the same metadata as instance 1
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
    // identical metadata within one answer is one map, kept by both instances as it is
    assertThat(s.instances().get(5).metadata()).isSameAs(s.instances().get(0).metadata());
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
  void aTruncatedAnswerIsRefused() {
    byte[] whole = ServerMessage.newBuilder().setRequestId(5).setFetched(snapshot(List.of(proto(1).build(),
        proto(2).build()))).build().toByteArray();
    for (int cut : new int[] {whole.length - 1, whole.length / 2, 3}) {
      assertThatThrownBy(() -> Inbound.Unmarshaller.parse(Arrays.copyOf(whole, cut)))
          .isInstanceOf(InvalidProtocolBufferException.class);
    }
  }
}
