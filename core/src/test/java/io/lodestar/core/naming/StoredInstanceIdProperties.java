package io.lodestar.core.naming;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.v1.Instance;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** A stored id (kept as Latin-1 bytes when it fits) answers every question as its String would. */
class StoredInstanceIdProperties {
  private static final ServiceKey SERVICE = new ServiceKey("default", "orders");

  @Property(tries = 2000)
  void idsCompareHashAndMatchAsTheirStrings(@ForAll("ids") String a, @ForAll("ids") String b) {
    StoredInstance x = instance(a);
    StoredInstance y = instance(b);
    assertThat(x.id()).isEqualTo(a);
    assertThat(x.toInstance().getId()).isEqualTo(a);
    assertThat(x.idHash()).isEqualTo(a.hashCode());
    assertThat(x.idEquals(b)).isEqualTo(a.equals(b));
    assertThat(x.idEquals(a)).isTrue();
    assertThat(x.sameId(y)).isEqualTo(a.equals(b));
    assertThat(x.sameId(instance(a))).isTrue();
    assertThat(Integer.signum(x.compareIdTo(b))).isEqualTo(Integer.signum(a.compareTo(b)));
    assertThat(Integer.signum(StoredInstance.compareIds(x, y))).isEqualTo(Integer.signum(a.compareTo(b)));
  }

  @Provide
  Arbitrary<String> ids() {
    // ASCII, the rest of Latin-1 (bytes above 0x7f compare unsigned) and beyond it (kept as a String)
    Arbitrary<Character> chars = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(8, Arbitraries.chars().range('a', 'e')),
        net.jqwik.api.Tuple.of(2, Arbitraries.chars().range('\u00e0', '\u00ff')),
        net.jqwik.api.Tuple.of(1, Arbitraries.chars().range('\u0100', '\u0102')),
        net.jqwik.api.Tuple.of(1, Arbitraries.chars().range('\uffe0', '\uffff')));
    return chars.list().ofMaxSize(6).map(cs -> {
      StringBuilder s = new StringBuilder();
      cs.forEach(s::append);
      return s.toString();
    });
  }

  private static StoredInstance instance(String id) {
    return StoredInstance.of(SERVICE, Instance.newBuilder().setNamespace(SERVICE.namespace())
        .setService(SERVICE.service()).setId(id).setHost("10.0.0.1").setPort(8080).build());
  }
}
