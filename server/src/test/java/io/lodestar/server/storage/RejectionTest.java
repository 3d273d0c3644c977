package io.lodestar.server.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.v1.ErrorCode;
import io.lodestar.api.v1.state.Rejection;
import io.lodestar.core.LodestarException;
import org.junit.jupiter.api.Test;

/** A Raft rejection turns back into the exception the state machine threw, whichever node wrote it. */
class RejectionTest {
  @Test
  void theEnumCarriesTheCodeAndTheField() {
    RuntimeException e = RaftLog.toException(Rejection.newBuilder().setErrorCode(ErrorCode.NOT_FOUND)
        .setCode("NOT_FOUND").setMessage("no such service").setField("service").build());
    assertThat(e).isInstanceOf(LodestarException.class).hasMessage("no such service");
    assertThat(((LodestarException) e).code()).isEqualTo(LodestarException.Code.NOT_FOUND);
    assertThat(((LodestarException) e).field()).isEqualTo("service");
  }

  @Test
  void anOlderNodesNameStringStillMaps() {
    RuntimeException e = RaftLog.toException(Rejection.newBuilder().setCode("CONFLICT").setMessage("m").build());
    assertThat(((LodestarException) e).code()).isEqualTo(LodestarException.Code.CONFLICT);
  }

  @Test
  void anInternalFailureIsACodeOfTheErrorModel() {
    RuntimeException e = RaftLog.toException(Rejection.newBuilder().setCode("INTERNAL").setMessage("m").build());
    assertThat(e).isInstanceOf(LodestarException.class);
    assertThat(((LodestarException) e).code()).isEqualTo(LodestarException.Code.INTERNAL);
  }
}
