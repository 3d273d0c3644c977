package io.lodestar.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import io.lodestar.api.v1.HealthCheck;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.TcpCheck;
import io.lodestar.api.v1.state.AuditNote;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CreateNamespace;
import io.lodestar.api.v1.state.CreateToken;
import io.lodestar.api.v1.state.InstanceRef;
import io.lodestar.api.v1.state.PutService;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.api.v1.state.UpdateInstance;
import io.lodestar.core.naming.StoredInstance;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/**
 * A snapshot streamed one instance at a time ({@link StreamedSnapshot}) parses to the snapshot
 * built whole ({@code StateSnapshot.toByteArray()}) and is its bytes but for the registry's
 * length, padded to five bytes, so that snapshot files written either way read either way; and
 * restoring from the stream gives the state that was streamed.
 */
class StreamedSnapshotProperties {

  @Property(tries = 300)
  void streamedBytesAreTheBuiltSnapshotsButForAPaddedLengthAndRestoreToTheSameState(
      @ForAll("states") List<Command> commands,
      @ForAll @LongRange(min = 0, max = Long.MAX_VALUE) long appliedIndex) throws IOException {
    StateMachine sm = new StateMachine();
    apply(sm, commands);
    byte[] built = sm.snapshot(appliedIndex).toByteArray();

    byte[] streamed = stream(sm.captureSnapshot(appliedIndex));
    assertThat(canonical(streamed)).isEqualTo(built);
    assertThat(io.lodestar.api.v1.state.StateSnapshot.parseFrom(streamed)).isEqualTo(sm.snapshot(appliedIndex));

    // restored over a state of its own (which a restore replaces), through a small read buffer
    StateMachine restored = new StateMachine();
    apply(restored, commands.subList(0, commands.size() / 2));
    StreamedSnapshot.restore(CodedInputStream.newInstance(new ByteArrayInputStream(streamed), 64), restored);
    assertThat(restored.snapshot(appliedIndex)).isEqualTo(sm.snapshot(appliedIndex));
    assertThat(restored.registry().instanceCount()).isEqualTo(sm.registry().instanceCount());
    // a read-through (a backup checked before a restore through the log) counts what a restore restores
    StreamedSnapshot.Contents contents = StreamedSnapshot.check(CodedInputStream.newInstance(
        new ByteArrayInputStream(streamed), 64));
    assertThat(contents.instances()).isEqualTo(sm.registry().instanceCount());
    assertThat(contents.namespaces()).isEqualTo(sm.snapshot(appliedIndex).getRegistry().getNamespacesCount());
  }

  @Test
  void anEmptyStateStreamsAndRestores() throws IOException {
    StateMachine sm = new StateMachine();
    byte[] built = sm.snapshot(0).toByteArray();
    byte[] streamed = stream(sm.captureSnapshot(0));
    assertThat(canonical(streamed)).isEqualTo(built);
    StateMachine restored = new StateMachine();
    StreamedSnapshot.restore(CodedInputStream.newInstance(streamed), restored);
    assertThat(restored.snapshot(0)).isEqualTo(sm.snapshot(0));
  }

  /** A read-through refuses what a restore would refuse to read, before any node is touched. */
  @Test
  void aReadThroughRefusesWhatARestoreCannotRead() {
    io.lodestar.api.v1.state.RegistrySnapshot misordered = io.lodestar.api.v1.state.RegistrySnapshot.newBuilder()
        .addInstances(io.lodestar.api.v1.Instance.newBuilder().setId("a")).build();
    byte[] instanceFirst = io.lodestar.api.v1.state.StateSnapshot.newBuilder()
        .setRegistry(misordered).build().toByteArray();
    byte[] bytes = java.util.Arrays.copyOf(instanceFirst, instanceFirst.length + 2);
    // a service after the instance, inside the registry (its length grows by the two bytes)
    bytes[1] = (byte) (bytes[1] + 2);
    bytes[instanceFirst.length] = 0x1a;  // field 3, length-delimited: an empty ServiceInfo
    bytes[instanceFirst.length + 1] = 0;
    assertThatThrownBy(() -> StreamedSnapshot.check(CodedInputStream.newInstance(bytes)))
        .isInstanceOf(IOException.class).hasMessageContaining("after instances");
    byte[] truncated = java.util.Arrays.copyOf(instanceFirst, instanceFirst.length - 1);
    assertThatThrownBy(() -> StreamedSnapshot.check(CodedInputStream.newInstance(truncated)))
        .isInstanceOf(IOException.class);
  }

  @Test
  void theCaptureIsTheStateWhenCapturedNotWhenWritten() throws IOException {
    StateMachine sm = new StateMachine();
    List<Command> first = List.of(register("s1", "a", "10.0.0.1", true), register("s1", "b", "web-1", false));
    apply(sm, first);
    byte[] before = sm.snapshot(2).toByteArray();
    StreamedSnapshot captured = sm.captureSnapshot(2);
    // later writes to the same service (replace, remove) and a new one, before the capture is written
    apply(sm, List.of(register("s1", "a", "10.0.0.9", true), register("s2", "c", "10.0.0.3", true),
        Command.newBuilder().setTimeMs(9_000).setDeregisterInstance(io.lodestar.api.v1.state.DeregisterInstance
            .newBuilder().setNamespace("default").setService("s1").setId("b")).build()));
    assertThat(canonical(stream(captured))).isEqualTo(before);
  }

  @Test
  void aLeaseOnACapturedInstanceIsNotWrittenAndFollowsTheInstanceThatReplacesIt() throws IOException {
    StateMachine sm = new StateMachine();
    apply(sm, List.of(register("s1", "a", "10.0.0.1", true)));
    byte[] before = sm.snapshot(1).toByteArray();
    StreamedSnapshot captured = sm.captureSnapshot(1);
    // the lease keeper writes this node's lease on the object the capture holds
    StoredInstance held = sm.registry().stored("default", "s1", "a");
    held.leaseSeenNanos(42);
    held.leaseState(StoredInstance.LEASE_DECIDED);
    held.leaseReported(HealthStatus.UNHEALTHY);
    // replaced (same holder and TTL) while the capture still holds the old object
    apply(sm, List.of(register("s1", "a", "10.0.0.9", true)));
    StoredInstance live = sm.registry().stored("default", "s1", "a");
    assertThat(live).isNotSameAs(held);
    assertThat(live.leaseSeenNanos()).isEqualTo(42);
    assertThat(live.leaseState()).isEqualTo(StoredInstance.LEASE_DECIDED);
    assertThat(live.leaseReported()).isEqualTo(HealthStatus.UNHEALTHY);
    held.leaseSeenNanos(99); // a late renewal of the replaced object while the capture is written
    assertThat(canonical(stream(captured))).isEqualTo(before);
  }

  /** The bytes as a snapshot file holds them: written, then the registry's length put in its place. */
  static byte[] stream(StreamedSnapshot s) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes, 128);
    StreamedSnapshot.Written written = s.writeTo(out);
    out.flush();
    byte[] b = bytes.toByteArray();
    assertThat((long) b.length).isEqualTo(written.size());
    int at = (int) written.registryLengthAt();
    assertThat(java.util.Arrays.copyOfRange(b, at, at + StreamedSnapshot.PADDED))
        .isEqualTo(StreamedSnapshot.paddedVarint32(0));
    System.arraycopy(written.registryLength(), 0, b, at, StreamedSnapshot.PADDED);
    return b;
  }

  /**
   * A streamed snapshot's bytes with its padded registry length written as protobuf writes it: the
   * registry is field 2, right after the applied index (field 1) when there is one.
   */
  static byte[] canonical(byte[] streamed) throws IOException {
    CodedInputStream in = CodedInputStream.newInstance(streamed);
    int tag = in.readTag();
    if (tag == (1 << 3)) {
      in.readUInt64();
      tag = in.readTag();
    }
    assertThat(tag).isEqualTo((2 << 3) | 2);
    int at = in.getTotalBytesRead();
    int length = in.readRawVarint32();
    assertThat(in.getTotalBytesRead() - at).isEqualTo(StreamedSnapshot.PADDED);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(streamed, 0, at);
    CodedOutputStream varint = CodedOutputStream.newInstance(out, 16);
    varint.writeUInt32NoTag(length);
    varint.flush();
    out.write(streamed, at + StreamedSnapshot.PADDED, streamed.length - at - StreamedSnapshot.PADDED);
    return out.toByteArray();
  }

  private static void apply(StateMachine sm, List<Command> commands) {
    for (Command c : commands) {
      try {
        sm.apply(c);
      } catch (LodestarException e) {
        // refused: changed nothing
      }
      sm.flush();
    }
  }

  private static Command register(String svc, String id, String host, boolean ephemeral) {
    return Command.newBuilder().setTimeMs(5_000).setRegisterInstance(RegisterInstance.newBuilder()
        .setInstance(Instance.newBuilder().setNamespace("default").setService(svc).setId(id).setHost(host)
            .setPort(80).setEphemeral(ephemeral).setTtlSeconds(ephemeral ? 10 : 0))).build();
  }

  /**
   * Every shape a state has: the replay property's commands (services, instances persistent and
   * ephemeral, tags and checks, configs, rules, keys) together with namespaces, service metadata,
   * instance metadata, weights, isolation, health checks, hosts that are names, tokens and audit
   * notes.
   */
  @Provide
  Arbitrary<List<Command>> states() {
    Arbitrary<String> ns = Arbitraries.of("default", "n1", "n2");
    Arbitrary<String> svc = Arbitraries.of("s0", "s1", "s2", "s9");
    Arbitrary<String> id = Arbitraries.of("a", "b", "c", "z");
    Arbitrary<Command> createNs = ns.map(n -> cmd(20).setCreateNamespace(CreateNamespace.newBuilder().setName(n)
        .setDescription("about " + n)).build());
    Arbitrary<Command> putService = Combinators.combine(ns, svc, Arbitraries.integers().between(0, 3))
        .as((n, s, k) -> cmd(21).setPutService(PutService.newBuilder().setNamespace(n).setName(s)
            .putMetadata("team", "t" + k).putMetadata("tier", "x").setProtectThreshold(k / 4.0)).build());
    Arbitrary<Command> registerRich = Combinators.combine(ns, svc, id, Arbitraries.integers().between(0, 5))
        .as((n, s, i, k) -> {
          Instance.Builder b = Instance.newBuilder().setNamespace(n).setService(s).setId(i)
              .setHost(k % 2 == 0 ? "10.1." + k + ".7" : "host-" + k + ".example").setPort(1000 + k)
              .setProtocol(k > 2 ? "grpc" : "http").setEphemeral(k < 3).setTtlSeconds(k < 3 ? 5 : 0)
              .putMetadata("zone", "z" + (k % 2)).putMetadata("v", "ü" + k).setOwner(k == 1 ? "o9" : "");
          if (k == 4) {
            b.setWeight(0).setCheck(HealthCheck.newBuilder().setTcp(TcpCheck.newBuilder()).setIntervalSeconds(5));
          }
          if (k == 5) {
            b.setWeight(250).putMetadata("", "");
          }
          return cmd(22).setRegisterInstance(RegisterInstance.newBuilder().setInstance(b)).build();
        });
    Arbitrary<Command> update = Combinators.combine(ns, svc, id, Arbitraries.of(true, false)).as((n, s, i, iso) ->
        cmd(23).setUpdateInstance(UpdateInstance.newBuilder().setRef(InstanceRef.newBuilder().setNamespace(n)
            .setService(s).setId(i)).setWeight(iso ? 7 : 300).setIsolated(iso)).build());
    Arbitrary<Command> token = Arbitraries.of("ci", "ops").map(name -> cmd(24).setCreateToken(CreateToken.newBuilder()
        .setName(name).setSecretSha256(ByteString.copyFrom(new byte[32])).addPolicies("read:*")).build());
    Arbitrary<Command> note = Arbitraries.of("join", "leave").map(a -> cmd(25).setActor("admin").setSource("127.0.0.1")
        .setAuditNote(AuditNote.newBuilder().setAction(a).setTarget("node-2")).build());
    Arbitrary<Command> extra = Arbitraries.frequencyOf(Tuple.of(2, createNs), Tuple.of(2, putService),
        Tuple.of(5, registerRich), Tuple.of(2, update), Tuple.of(1, token), Tuple.of(1, note));
    return Combinators.combine(extra.list().ofMaxSize(60), new SnapshotReplayProperties().commands(),
        Arbitraries.integers().between(0, 60)).as((extras, base, at) -> {
          List<Command> all = new ArrayList<>(base);
          all.addAll(Math.min(at, all.size()), extras);
          return all;
        });
  }

  private static Command.Builder cmd(long t) {
    return Command.newBuilder().setTimeMs(1_000 * t);
  }
}
