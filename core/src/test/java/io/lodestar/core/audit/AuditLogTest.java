package io.lodestar.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.state.AuditEntry;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.DeregisterInstance;
import io.lodestar.api.v1.state.DeregisterOwned;
import io.lodestar.api.v1.state.RegisterInstance;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the audit trail records of naming writes: the operators' own, not an SDK's soft state. */
class AuditLogTest {
  private final AuditLog audit = new AuditLog();

  private static Command register(Instance.Builder i) {
    return Command.newBuilder().setActor("anonymous").setSource("127.0.0.1").setTimeMs(1000)
        .setRegisterInstance(RegisterInstance.newBuilder().setInstance(i.setNamespace("default").setService("orders")))
        .build();
  }

  private List<String> recorded() {
    return audit.query(0, null, AuditLog.CAPACITY).stream().map(e -> e.getAction() + " " + e.getTarget()).toList();
  }

  @Test
  void anSdkStreamsEphemeralRegistrationIsNotRecorded() {
    audit.record(register(Instance.newBuilder().setId("sdk-1").setEphemeral(true).setOwner("client-7")));
    assertThat(recorded()).isEmpty();
  }

  @Test
  void restRegistrationsPersistentInstancesDeregistrationsAndAStreamsCloseAreRecorded() {
    audit.record(register(Instance.newBuilder().setId("rest-eph").setEphemeral(true)));   // REST/CLI: no owner
    audit.record(register(Instance.newBuilder().setId("persistent").setEphemeral(false)));
    audit.record(Command.newBuilder().setActor("anonymous").setDeregisterInstance(DeregisterInstance.newBuilder()
        .setNamespace("default").setService("orders").setId("sdk-1")).build());
    audit.record(Command.newBuilder().setActor("anonymous").setDeregisterOwned(DeregisterOwned.newBuilder()
        .setOwner("client-7")).build());
    assertThat(recorded()).containsExactly("register_instance orders/rest-eph", "register_instance orders/persistent",
        "deregister_instance orders/sdk-1", "deregister_owned client client-7");
    AuditEntry first = audit.query(0, "default", 1).get(0);
    assertThat(first.getActor()).isEqualTo("anonymous");
    assertThat(first.getSource()).isEqualTo("127.0.0.1");
    assertThat(first.getIndex()).isEqualTo(1);
  }

  @Test
  void writesTheServerMakesItselfAreNotRecorded() {
    audit.record(register(Instance.newBuilder().setId("x").setEphemeral(false)).toBuilder().clearActor().build());
    assertThat(recorded()).isEmpty();
  }
}
