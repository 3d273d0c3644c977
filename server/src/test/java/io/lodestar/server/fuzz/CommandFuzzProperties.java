package io.lodestar.server.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CreateNamespace;
import io.lodestar.api.v1.state.KvPut;
import io.lodestar.api.v1.state.PutService;
import io.lodestar.api.v1.state.RegisterInstance;
import io.lodestar.core.LodestarException;
import io.lodestar.core.StateMachine;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Every command a node accepts (from its own REST and stream handlers, and from Raft peers) is a
 * protobuf {@link Command}. Random and mutated ones, with hostile names: the decoder refuses the
 * bytes, or validation and apply refuse the command with a {@link LodestarException} and change
 * nothing, or it is applied. Never another exception, never a partial write.
 */
class CommandFuzzProperties {
  private static List<Command> seeds(String name) {
    Instance i = Instance.newBuilder().setNamespace("default").setService(name).setId(name).setHost(name)
        .setPort(80).putMetadata(name, name).build();
    return List.of(
        Command.newBuilder().setTimeMs(1).setRegisterInstance(RegisterInstance.newBuilder().setInstance(i)).build(),
        Command.newBuilder().setTimeMs(1).setCreateNamespace(CreateNamespace.newBuilder().setName(name)).build(),
        Command.newBuilder().setTimeMs(1).setPutService(PutService.newBuilder().setNamespace("default").setName(name)
            .setProtectThreshold(0.5)).build(),
        Command.newBuilder().setTimeMs(1).setKvPut(KvPut.newBuilder().setNamespace("default").setKey(name)
            .setValue(ByteString.copyFromUtf8(name))).build());
  }

  @Provide
  Arbitrary<byte[]> commandBytes() {
    Arbitrary<Command> seed = Hostile.names().flatMap(n -> Arbitraries.of(seeds(n)));
    return Combinators.combine(seed, Arbitraries.longs(), Arbitraries.integers().between(0, 3)).as((c, s, how) ->
        how == 0 ? c.toByteArray() : Hostile.mutate(c.toByteArray(), s));
  }

  @Property(tries = 1000)
  void aCommandIsRefusedWholeOrApplied(@ForAll("commandBytes") byte[] bytes) throws Exception {
    Command cmd;
    try {
      cmd = Command.parseFrom(bytes);
    } catch (InvalidProtocolBufferException refusedByTheDecoder) {
      return;
    }
    StateMachine sm = new StateMachine();
    sm.apply(seeds("existing").get(0));
    sm.flush();
    byte[] before = sm.snapshot(1).toByteArray();
    try {
      StateMachine.validate(cmd);
      sm.apply(cmd);
      sm.flush();
    } catch (LodestarException refused) {
      sm.flush();
      assertThat(sm.snapshot(1).toByteArray()).as("a refused command changes nothing").isEqualTo(before);
      assertThat(refused.getMessage()).isNotBlank();
    }
  }
}
