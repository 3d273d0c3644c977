package io.lodestar.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.v1.ErrorCode;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** LodestarException's codes are exactly api/'s ErrorCode: one error model on every side. */
class ErrorModelTest {
  @Test
  void everyCodeIsAWireCodeAndBack() {
    for (LodestarException.Code c : LodestarException.Code.values()) {
      assertThat(LodestarException.Code.of(c.wire())).isEqualTo(c);
      assertThat(c.wireName()).isEqualTo(c.wire().name().toLowerCase(java.util.Locale.ROOT));
    }
    assertThat(Arrays.stream(ErrorCode.values())
        .filter(w -> w != ErrorCode.ERROR_CODE_UNSPECIFIED && w != ErrorCode.UNRECOGNIZED)
        .map(LodestarException.Code::of)).doesNotContainNull().hasSize(LodestarException.Code.values().length);
    assertThat(LodestarException.Code.of(ErrorCode.ERROR_CODE_UNSPECIFIED)).isNull();
  }
}
