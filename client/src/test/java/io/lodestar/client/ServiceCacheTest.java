package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.api.v1.ServiceInfo;
import io.lodestar.api.v1.ServiceUpdate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How updates are applied, on a cache whose connection never connects: the test thread plays the
 * control thread, and listeners run inline, so every step is deterministic.
 */
class ServiceCacheTest {
  private final ControlLoop control = ControlLoop.shared("test");
  private final List<ServiceEvent> events = new ArrayList<>();
  private DiskCache disk;

  @AfterEach
  void stop() {
    control.shutdownNow();
    if (disk != null) {
      disk.close();
    }
  }

  private ServiceCache cache(DiskCache disk) {
    Connection c = new Connection(List.of(new Names.ServerAddress("127.0.0.1", 1)), "test", Map.of(),
        Duration.ofSeconds(1), new Backoff(Duration.ofMillis(10), Duration.ofMillis(10)), control, Runnable::run, null);
    ServiceCache cache = new ServiceCache(c, disk, Runnable::run);
    c.setCache(cache);
    return cache;
  }

  private ServiceEntry subscribed(ServiceCache cache) {
    ServiceEntry e = cache.getOrCreate("default", "svc");
    ServiceEntry.ListenerHandle h = cache.newHandle(e, events::add);
    e.listeners.add(h);
    cache.attach(e, h);
    return e;
  }

  static Instance inst(String id, int weight) {
    return Instance.newBuilder().setId(id).setNamespace("default").setService("svc").setHost("h").setPort(1)
        .setWeight(weight).setHealth(HealthStatus.HEALTHY).build();
  }

  static ServiceUpdate.Builder update(long revision) {
    return ServiceUpdate.newBuilder().setNamespace("default").setService("svc").setRevision(revision);
  }

  @Test
  void appliesSnapshotsAndFittingDeltasAndIgnoresDeltasThatDoNotFit() {
    ServiceCache cache = cache(null);
    ServiceEntry e = subscribed(cache);

    cache.onUpdate(update(5).setSnapshot(true).addInstances(inst("a", 1)).addInstances(inst("b", 1))
        .setInfo(ServiceInfo.newBuilder().setProtectThreshold(0.3)).build());
    assertThat(e.snapshot.revision()).isEqualTo(5);
    assertThat(e.snapshot.protectThreshold()).isEqualTo(0.3);
    assertThat(events).hasSize(1);
    assertThat(events.get(0).added()).extracting(io.lodestar.client.Instance::id).containsExactly("a", "b");

    // fits: base 5
    cache.onUpdate(update(7).setBaseRevision(5).addInstances(inst("c", 1)).addInstances(inst("a", 9))
        .addRemovedIds("b").build());
    assertThat(e.snapshot.revision()).isEqualTo(7);
    assertThat(e.snapshot.instances()).extracting(io.lodestar.client.Instance::id).containsExactly("a", "c");
    assertThat(e.snapshot.protectThreshold()).as("info kept from the snapshot").isEqualTo(0.3);
    ServiceEvent delta = events.get(1);
    assertThat(delta.added()).extracting(io.lodestar.client.Instance::id).containsExactly("c");
    assertThat(delta.changed()).extracting(io.lodestar.client.Instance::weight).containsExactly(9);
    assertThat(delta.removed()).extracting(io.lodestar.client.Instance::id).containsExactly("b");

    // does not fit (a gap: base 9 while we hold 7): ignored, and a resync is pending
    cache.onUpdate(update(11).setBaseRevision(9).addInstances(inst("x", 1)).build());
    assertThat(e.snapshot.revision()).isEqualTo(7);
    assertThat(e.resyncPending).isTrue();
    assertThat(events).hasSize(2);

    // the resubscription's snapshot repairs it, whatever its revision
    cache.onUpdate(update(11).setSnapshot(true).addInstances(inst("a", 9)).addInstances(inst("x", 1)).build());
    assertThat(e.snapshot.instances()).extracting(io.lodestar.client.Instance::id).containsExactly("a", "x");
    assertThat(e.resyncPending).isFalse();
    ServiceEvent repaired = events.get(2);
    assertThat(repaired.added()).extracting(io.lodestar.client.Instance::id).containsExactly("x");
    assertThat(repaired.removed()).extracting(io.lodestar.client.Instance::id).containsExactly("c");
    assertThat(repaired.changed()).isEmpty();

    // an empty delta saying "already current" changes nothing and tells nobody
    cache.onUpdate(update(11).setBaseRevision(11).build());
    assertThat(events).hasSize(3);
  }

  /**
   * A delta is applied by the ids it names (the previous sorted list edited in place): the list and
   * each event must be what comparing the whole lists gives, for any mix of adds, changes and
   * removals, an id named twice, or added and removed in one delta.
   */
  @Test
  void deltasGiveTheSameListAndEventsAsComparingWholeLists() {
    ServiceCache cache = cache(null);
    ServiceEntry e = subscribed(cache);
    java.util.Random random = new java.util.Random(11);
    java.util.TreeMap<String, Instance> expected = new java.util.TreeMap<>();
    cache.onUpdate(update(1).setSnapshot(true).build());
    long revision = 1;
    for (int round = 0; round < 300; round++) {
      ServiceUpdate.Builder u = update(revision + 1).setBaseRevision(revision);
      java.util.TreeMap<String, Instance> next = new java.util.TreeMap<>(expected);
      for (int k = random.nextInt(4); k >= 0; k--) {
        String id = "i-" + random.nextInt(40);
        if (random.nextInt(3) == 0) {
          u.addRemovedIds(id);
          next.remove(id);  // removals are applied after the delta's instances
        } else {
          Instance i = inst(id, 1 + random.nextInt(3));
          u.addInstances(i);
        }
      }
      for (Instance i : u.getInstancesList()) {
        if (!u.getRemovedIdsList().contains(i.getId())) {
          next.put(i.getId(), i);
        }
      }
      int eventsBefore = events.size();
      cache.onUpdate(u.build());
      revision++;

      assertThat(e.snapshot.instances()).extracting(io.lodestar.client.Instance::id)
          .containsExactlyElementsOf(next.keySet());
      java.util.Set<String> added = new java.util.TreeSet<>(next.keySet());
      added.removeAll(expected.keySet());
      java.util.Set<String> removed = new java.util.TreeSet<>(expected.keySet());
      removed.removeAll(next.keySet());
      java.util.Set<String> changed = new java.util.TreeSet<>();
      for (String id : next.keySet()) {
        if (expected.containsKey(id) && expected.get(id).getWeight() != next.get(id).getWeight()) {
          changed.add(id);
        }
      }
      if (added.isEmpty() && removed.isEmpty() && changed.isEmpty()) {
        assertThat(events).hasSize(eventsBefore);
      } else {
        ServiceEvent ev = events.get(events.size() - 1);
        assertThat(events).hasSize(eventsBefore + 1);
        assertThat(ev.added()).extracting(io.lodestar.client.Instance::id).containsExactlyElementsOf(added);
        assertThat(ev.removed()).extracting(io.lodestar.client.Instance::id).containsExactlyElementsOf(removed);
        assertThat(ev.changed()).extracting(io.lodestar.client.Instance::id).containsExactlyElementsOf(changed);
      }
      expected = next;
    }
  }

  @Test
  void ignoresUpdatesForServicesNotSubscribed() {
    ServiceCache cache = cache(null);
    cache.onUpdate(update(1).setSnapshot(true).addInstances(inst("a", 1)).build());
    assertThat(cache.find("default", "svc")).isNull();
  }

  @Test
  void lastListenerLeavingDropsTheListUnlessPinned() {
    ServiceCache cache = cache(null);
    ServiceEntry e = subscribed(cache);
    cache.onUpdate(update(1).setSnapshot(true).addInstances(inst("a", 1)).build());
    e.listeners.clear();
    cache.maybeDeactivate(e);
    assertThat(e.snapshot).isNull();
    assertThat(e.active).isFalse();

    ServiceEntry pinned = cache.getOrCreate("default", "other");
    pinned.pinned = true;
    cache.ensureActive(pinned);
    cache.maybeDeactivate(pinned);
    assertThat(pinned.active).isTrue();
  }

  @Test
  void writesEachServiceAtomicallyAndReadsItBack(@TempDir Path dir) throws Exception {
    disk = new DiskCache(dir, "test-cache");
    ServiceCache cache = cache(disk);
    ServiceEntry e = subscribed(cache);
    for (int rev = 1; rev <= 20; rev++) {  // a burst: coalesced into few writes of the latest
      cache.onUpdate(update(rev).setSnapshot(true).addInstances(inst("a", rev)).build());
    }
    Path file = disk.fileFor("default", "svc");
    await().until(() -> disk.load("default", "svc").map(ServiceUpdate::getRevision).orElse(0L) == 20L);
    ServiceUpdate saved = disk.load("default", "svc").orElseThrow();
    assertThat(saved.getSnapshot()).isTrue();
    assertThat(saved.getInstances(0).getWeight()).isEqualTo(20);
    try (var files = Files.list(file.getParent())) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("svc" + DiskCache.SUFFIX);
    }
    assertThat(e.snapshotFromDisk).isFalse();
  }

  @Test
  void colonsInNamesMakeSafeFileNamesAndCorruptFilesAreIgnored(@TempDir Path dir) throws Exception {
    disk = new DiskCache(dir, "test-cache");
    Path file = disk.fileFor("ns:1", "svc:v2");
    assertThat(file.getFileName().toString()).doesNotContain(":");
    Files.createDirectories(file.getParent());
    Files.write(file, new byte[] {0x0a, (byte) 0xff, 0x01});
    assertThat(disk.load("ns:1", "svc:v2")).isEmpty();
    assertThat(disk.load("ns:1", "absent")).isEmpty();
  }
}
