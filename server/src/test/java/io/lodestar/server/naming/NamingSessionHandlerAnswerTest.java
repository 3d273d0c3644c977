package io.lodestar.server.naming;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.lodestar.api.v1.Instance;
import org.junit.jupiter.api.Test;

/** A registration's answer without metadata carries every other field of the stored instance. */
class NamingSessionHandlerAnswerTest {

  @Test
  void everyFieldButMetadataIsCarried() {
    // every field set from the descriptor: a field added to Instance later is set here too, and the
    // comparison fails until withoutMetadata carries it
    Instance stored = (Instance) filled(Instance.newBuilder());
    assertThat(stored.getMetadataCount()).isPositive();
    for (FieldDescriptor f : Instance.getDescriptor().getFields()) {
      assertThat(f.isRepeated() ? stored.getRepeatedFieldCount(f) > 0 : stored.hasField(f))
          .as(f.getName()).isTrue();
    }

    Instance answer = NamingSessionHandler.withoutMetadata(stored);

    assertThat(answer).isEqualTo(stored.toBuilder().clearMetadata().build());
  }

  @Test
  void unsetOptionalFieldsStayUnset() {
    Instance stored = Instance.newBuilder().setId("a").putMetadata("k", "v").build();

    Instance answer = NamingSessionHandler.withoutMetadata(stored);

    assertThat(answer.hasWeight()).isFalse();
    assertThat(answer.hasCheck()).isFalse();
    assertThat(answer).isEqualTo(Instance.newBuilder().setId("a").build());
  }

  private static Message filled(Message.Builder b) {
    for (FieldDescriptor f : b.getDescriptorForType().getFields()) {
      if (f.isMapField()) {
        Message.Builder entry = b.newBuilderForField(f);
        b.addRepeatedField(f, filled(entry));
      } else if (f.isRepeated()) {
        b.addRepeatedField(f, value(b, f));
        b.addRepeatedField(f, value(b, f));
      } else {
        b.setField(f, value(b, f));
      }
    }
    return b.build();
  }

  private static Object value(Message.Builder b, FieldDescriptor f) {
    return switch (f.getJavaType()) {
      case STRING -> f.getName() + "-" + f.getNumber();
      case INT -> 7 + f.getNumber();
      case LONG -> 70L + f.getNumber();
      case BOOLEAN -> true;
      case FLOAT -> 1.5f;
      case DOUBLE -> 2.5;
      case ENUM -> f.getEnumType().getValues().get(f.getEnumType().getValues().size() - 1);
      case BYTE_STRING -> com.google.protobuf.ByteString.copyFromUtf8(f.getName());
      case MESSAGE -> filled(b.newBuilderForField(f));
    };
  }
}
