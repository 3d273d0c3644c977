package io.lodestar.core.kv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.KvDelete;
import io.lodestar.api.v1.state.KvEntry;
import io.lodestar.api.v1.state.KvPut;
import io.lodestar.api.v1.state.KvResult;
import io.lodestar.core.LodestarException;
import io.lodestar.core.StateMachine;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class KvStoreTest {
  final StateMachine sm = new StateMachine();
  final KvStore kv = sm.kv();
  final List<String> changed = new ArrayList<>();

  KvStoreTest() {
    kv.addListener(changed::add);
  }

  KvResult put(String key, String value) {
    return run(Command.newBuilder().setKvPut(KvPut.newBuilder().setNamespace("default").setKey(key)
        .setValue(ByteString.copyFromUtf8(value))));
  }

  KvResult cas(String key, String value, long cas) {
    return run(Command.newBuilder().setKvPut(KvPut.newBuilder().setNamespace("default").setKey(key)
        .setValue(ByteString.copyFromUtf8(value)).setCas(cas)));
  }

  KvResult delete(String key, boolean recurse) {
    return run(Command.newBuilder().setKvDelete(KvDelete.newBuilder().setNamespace("default").setKey(key)
        .setRecurse(recurse)));
  }

  KvResult run(Command.Builder c) {
    KvResult r = sm.apply(c.setTimeMs(1).build()).getKv();
    sm.flush();
    return r;
  }

  @Test
  void everyWriteTakesTheNextIndexAndEntriesRememberCreateAndModify() {
    assertThat(put("a/x", "1").getIndex()).isEqualTo(1);
    assertThat(put("a/y", "2").getIndex()).isEqualTo(2);
    assertThat(put("a/x", "3").getIndex()).isEqualTo(3);
    KvEntry x = kv.get("default", "a/x");
    assertThat(x.getCreateIndex()).isEqualTo(1);
    assertThat(x.getModifyIndex()).isEqualTo(3);
    assertThat(kv.indexOf("default", "a/", false)).isEqualTo(3);
    assertThat(kv.indexOf("default", "a/y", true)).isEqualTo(2);
    assertThat(changed).containsExactly("default", "default", "default");
  }

  @Test
  void compareAndSetRefusesAStaleIndexAndChangesNothing() {
    long first = put("k", "1").getIndex();
    assertThat(cas("k", "2", first).getOk()).isTrue();
    assertThat(cas("k", "3", first).getOk()).isFalse();
    assertThat(cas("k", "4", 0).getOk()).isFalse();          // 0: only if absent
    assertThat(cas("new", "n", 0).getOk()).isTrue();
    assertThat(kv.get("default", "k").getValue().toStringUtf8()).isEqualTo("2");
    assertThat(kv.index()).isEqualTo(3);                       // refused writes take no index
  }

  @Test
  void aDeleteLeavesATombstoneSoAPrefixIndexStillMoves() {
    put("p/a", "1");
    put("q/a", "1");
    long before = kv.indexOf("default", "p/", false);
    delete("p/a", false);
    assertThat(kv.get("default", "p/a")).isNull();
    assertThat(kv.list("default", "p/")).isEmpty();
    assertThat(kv.indexOf("default", "p/", false)).isGreaterThan(before);
    assertThat(kv.indexOf("default", "p/a", true)).isEqualTo(kv.index());
    // a write elsewhere does not move this prefix's index
    long p = kv.indexOf("default", "p/", false);
    put("q/b", "2");
    assertThat(kv.indexOf("default", "p/", false)).isEqualTo(p);
  }

  @Test
  void recursiveDeleteTakesOneIndexAndRestoreKeepsEverything() {
    put("r/1", "a");
    put("r/2", "b");
    put("s", "c");
    KvResult d = delete("r/", true);
    assertThat(kv.list("default", "")).extracting(KvEntry::getKey).containsExactly("s");
    assertThat(kv.indexOf("default", "r/", false)).isEqualTo(d.getIndex());

    StateMachine copy = new StateMachine();
    copy.restore(sm.snapshot(0));
    assertThat(copy.kv().snapshot()).isEqualTo(kv.snapshot());
    assertThat(copy.kv().indexOf("default", "r/", false)).isEqualTo(d.getIndex());
  }

  @Test
  void aKeyKeepsItsLastValuesThroughADelete() {
    for (int i = 1; i <= KvStore.HISTORY_LIMIT + 2; i++) {
      put("h", "v" + i);
    }
    KvEntry e = kv.withHistory("default", "h");
    assertThat(e.getValue().toStringUtf8()).isEqualTo("v" + (KvStore.HISTORY_LIMIT + 2));
    assertThat(e.getHistoryList()).hasSize(KvStore.HISTORY_LIMIT);
    assertThat(e.getHistory(0).getValue().toStringUtf8()).isEqualTo("v" + (KvStore.HISTORY_LIMIT + 1));
    assertThat(e.getHistory(0).getHistoryCount()).isZero();
    delete("h", false);
    KvEntry tomb = kv.withHistory("default", "h");
    assertThat(tomb.getDeleted()).isTrue();
    assertThat(tomb.getHistory(0).getValue().toStringUtf8()).isEqualTo("v" + (KvStore.HISTORY_LIMIT + 2));
    put("h", "back");
    assertThat(kv.withHistory("default", "h").getHistory(0).getValue().toStringUtf8())
        .isEqualTo("v" + (KvStore.HISTORY_LIMIT + 2));
  }

  @Test
  void tombstonesBeyondTheCapRaiseTheFloor() {
    for (int i = 0; i <= KvStore.MAX_TOMBSTONES; i++) {
      put("t/" + i, "v");
      delete("t/" + i, false);
    }
    // the oldest tombstone went; its index is now the floor every read reports at least
    assertThat(kv.indexOf("default", "t/0", true)).isEqualTo(2);
    assertThat(kv.indexOf("default", "elsewhere", true)).isEqualTo(2);
  }

  @Test
  void badInputIsRefusedBeforeTheLog() {
    assertThatThrownBy(() -> put("", "x")).isInstanceOf(LodestarException.class).hasMessageContaining("key");
    assertThatThrownBy(() -> put("x".repeat(513), "x")).hasMessageContaining("512");
    assertThatThrownBy(() -> put("a\nb", "x")).hasMessageContaining("control");
    assertThatThrownBy(() -> put("big", "x".repeat(KvStore.MAX_VALUE_BYTES + 1)))
        .extracting(e -> ((LodestarException) e).code()).isEqualTo(LodestarException.Code.TOO_LARGE);
    assertThatThrownBy(() -> run(Command.newBuilder().setKvPut(KvPut.newBuilder().setNamespace("nope").setKey("k"))))
        .hasMessageContaining("namespace nope");
    assertThat(kv.index()).isZero();
  }
}
