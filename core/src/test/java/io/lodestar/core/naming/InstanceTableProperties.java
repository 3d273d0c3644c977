package io.lodestar.core.naming;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.v1.Instance;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** {@link InstanceTable} against a {@code HashMap}, alone and with readers on other threads. */
class InstanceTableProperties {
  private static final ServiceKey SERVICE = new ServiceKey("default", "orders");
  // "Aa" and "BB" have the same String hash: these four collide, so their runs are long
  private static final List<String> COLLIDING = List.of("AaAa", "AaBB", "BBAa", "BBBB");

  record Op(boolean remove, String id) {}

  @Property(tries = 300)
  void behavesAsAHashMap(@ForAll("ops") @Size(max = 600) List<Op> ops) {
    InstanceTable table = new InstanceTable();
    Map<String, StoredInstance> expected = new HashMap<>();
    int version = 0;
    for (Op op : ops) {
      if (op.remove()) {
        assertThat(table.remove(op.id())).isSameAs(expected.remove(op.id()));
      } else {
        StoredInstance e = instance(op.id(), version++);
        assertThat(table.put(e)).isSameAs(expected.put(op.id(), e));
      }
      assertThat(table.size()).isEqualTo(expected.size());
      assertThat(table.get(op.id())).isSameAs(expected.get(op.id()));
    }
    for (Op op : ops) {
      assertThat(table.get(op.id())).isSameAs(expected.get(op.id()));
    }
    assertThat(table.get("absent")).isNull();
    List<StoredInstance> seen = new ArrayList<>();
    table.forEach(seen::add);
    assertThat(seen).containsExactlyInAnyOrderElementsOf(expected.values());
    assertThat(table.toArray()).containsExactlyInAnyOrderElementsOf(expected.values());
    assertThat(table.isEmpty()).isEqualTo(expected.isEmpty());
  }

  /** Tombstones are reused or dropped: churn over a bounded set of ids does not grow the table. */
  @Property(tries = 50)
  void churnDoesNotGrowTheTable(@ForAll @IntRange(min = 1, max = 200) int live, @ForAll long seed) {
    InstanceTable table = new InstanceTable();
    for (int k = 0; k < live; k++) {
      table.put(instance("i-" + k, 0));
    }
    Random random = new Random(seed);
    int next = live;
    List<String> present = new ArrayList<>();
    for (int k = 0; k < live; k++) {
      present.add("i-" + k);
    }
    for (int step = 0; step < 5_000; step++) {
      // remove one, add a new one: the size stays, the ids move on
      String gone = present.remove(random.nextInt(present.size()));
      assertThat(table.remove(gone)).isNotNull();
      String id = "i-" + next++;
      table.put(instance(id, step));
      present.add(id);
      assertThat(table.capacity()).isLessThanOrEqualTo(Math.max(8, live * 2 + 2));
    }
    assertThat(table.size()).isEqualTo(live);
    present.forEach(id -> assertThat(table.get(id)).isNotNull());
  }

  /**
   * Readers on other threads, while one writer adds, replaces and removes (resizing and reusing
   * tombstones): an instance present before and after every write is always found, always as one of
   * the objects the writer put for it and never an older one than the reader saw last, and every
   * walk of the table holds it.
   */
  @Property(tries = 15)
  void concurrentReadersSeeEveryStableInstance(@ForAll("ops") @Size(min = 200, max = 2000) List<Op> ops,
      @ForAll @IntRange(min = 1, max = 40) int stableCount) {
    InstanceTable table = new InstanceTable();
    List<String> stable = new ArrayList<>();
    // versions of each stable instance, in the order the writer puts them
    Map<StoredInstance, Integer> versionOf = new IdentityHashMap<>();
    List<List<StoredInstance>> versions = new ArrayList<>();
    for (int s = 0; s < stableCount; s++) {
      String id = "stable-" + s;
      stable.add(id);
      List<StoredInstance> vs = new ArrayList<>();
      for (int v = 0; v < 1 + ops.size() / 50; v++) {
        StoredInstance e = instance(id, v);
        vs.add(e);
        versionOf.put(e, v);
      }
      versions.add(vs);
      table.put(vs.get(0));
    }
    AtomicBoolean done = new AtomicBoolean();
    AtomicReference<String> failure = new AtomicReference<>();
    List<Thread> readers = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      Thread t = new Thread(() -> {
        int[] last = new int[stableCount];
        boolean lastRound = false;
        while (failure.get() == null) {
          lastRound = done.get(); // one whole round after the writer has finished
          for (int s = 0; s < stableCount; s++) {
            StoredInstance got = table.get(stable.get(s));
            Integer v = got == null ? null : versionOf.get(got);
            if (v == null || !got.id().equals(stable.get(s))) {
              failure.compareAndSet(null, "get(" + stable.get(s) + ") gave " + (got == null ? null : got.id()));
            } else if (v < last[s]) {
              failure.compareAndSet(null, stable.get(s) + ": version " + v + " after " + last[s]);
            } else {
              last[s] = v;
            }
          }
          Map<String, Integer> walked = new HashMap<>();
          table.forEach(e -> walked.merge(e.id(), 1, Integer::sum));
          for (String id : stable) {
            if (walked.getOrDefault(id, 0) != 1) {
              failure.compareAndSet(null, "a walk saw " + id + " " + walked.getOrDefault(id, 0) + " times");
            }
          }
          if (lastRound) {
            break;
          }
        }
      }, "reader-" + r);
      t.start();
      readers.add(t);
    }
    Map<String, StoredInstance> expected = new HashMap<>();
    int version = 0;
    int replaced = 0;
    for (int k = 0; k < ops.size(); k++) {
      Op op = ops.get(k);
      if (op.remove()) {
        assertThat(table.remove(op.id())).isSameAs(expected.remove(op.id()));
      } else {
        StoredInstance e = instance(op.id(), version++);
        assertThat(table.put(e)).isSameAs(expected.put(op.id(), e));
      }
      if (k % 50 == 49) { // now and then a stable instance is replaced by its next version
        int s = replaced++ % stableCount;
        List<StoredInstance> vs = versions.get(s);
        int v = 1 + (replaced - 1) / stableCount;
        if (v < vs.size()) {
          assertThat(table.put(vs.get(v))).isSameAs(vs.get(v - 1));
        }
      }
    }
    done.set(true);
    for (Thread t : readers) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    assertThat(failure.get()).isNull();
    assertThat(table.size()).isEqualTo(expected.size() + stableCount);
  }

  @Provide
  Arbitrary<List<Op>> ops() {
    // few ids, so that puts replace and removes hit; colliding ones make long runs
    Arbitrary<String> ids = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, Arbitraries.integers().between(0, 80).map(n -> "i-" + n)),
        net.jqwik.api.Tuple.of(1, Arbitraries.of(COLLIDING)));
    Arbitrary<Op> op = Combinators.combine(Arbitraries.integers().between(0, 2), ids)
        .as((kind, id) -> new Op(kind == 0, id));
    return op.list();
  }

  private static StoredInstance instance(String id, int version) {
    return StoredInstance.of(SERVICE, Instance.newBuilder().setNamespace(SERVICE.namespace())
        .setService(SERVICE.service()).setId(id).setHost("10.0.0.1").setPort(8080).setRevision(version).build());
  }
}
