package io.lodestar.server.telemetry;

import com.google.protobuf.ByteString;
import io.lodestar.api.v1.EdgeSlot;
import io.lodestar.api.v1.EdgeStats;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.IntCountsHistogram;

/**
 * One edge's slots on this node: a ring of 10 s slots covering the retention. The slot being
 * filled keeps a live histogram that reports merge into; an older slot keeps only the histogram's
 * compressed encoding (a few hundred bytes), sealed by the next report or the store's sweep.
 *
 * <p>Threading: every method is synchronized; reports for one edge arrive from the event loops of
 * the clients' streams, queries from REST handlers. Nothing here blocks or does I/O.
 */
final class EdgeSlots {
  private final long slotMs;
  private final Slot[] ring;
  private long newest = Long.MIN_VALUE;

  private static final class Slot {
    long start = Long.MIN_VALUE;
    long count;
    final TreeMap<String, Long> errors = new TreeMap<>();
    IntCountsHistogram live;
    byte[] sealed;

    void reset(long start) {
      this.start = start;
      count = 0;
      errors.clear();
      live = null;
      sealed = null;
    }

    IntCountsHistogram histogram() {
      if (live == null) {
        live = Histograms.empty();
        if (sealed != null) {
          Histograms.addEncoded(live, ByteBuffer.wrap(sealed));  // a late report for a sealed slot
          sealed = null;
        }
      }
      return live;
    }

    void seal() {
      if (live != null) {
        sealed = Histograms.encode(live);
        live = null;
      }
    }
  }

  EdgeSlots(long slotMs, int slots) {
    this.slotMs = slotMs;
    this.ring = new Slot[slots];
  }

  /** Files one report of the edge in the slot of {@code nowMs}. */
  synchronized void add(long nowMs, EdgeStats e, org.HdrHistogram.Histogram latency, List<String> errorKinds) {
    long start = nowMs - Math.floorMod(nowMs, slotMs);
    Slot s = slot(start);
    s.count += e.getCount();
    for (Map.Entry<String, Long> err : e.getErrorsMap().entrySet()) {
      String kind = errorKinds.contains(err.getKey()) ? err.getKey() : "other";
      s.errors.merge(kind, err.getValue(), Long::sum);
    }
    if (latency != null) {
      s.histogram().add(latency);
    }
    if (start > newest) {
      newest = start;
      sealOlderThan(start);
    }
  }

  private Slot slot(long start) {
    int i = (int) Math.floorMod(start / slotMs, (long) ring.length);
    Slot s = ring[i];
    if (s == null) {
      s = ring[i] = new Slot();
    }
    if (s.start != start) {
      s.reset(start);  // the slot a retention ago: its data has expired
    }
    return s;
  }

  synchronized void sealOlderThan(long start) {
    for (Slot s : ring) {
      if (s != null && s.start < start) {
        s.seal();
      }
    }
  }

  /** The newest slot's start, or Long.MIN_VALUE when the edge never had data. */
  synchronized long newest() {
    return newest;
  }

  /** The slots that start at or after {@code fromMs}, oldest first, as the wire carries them. */
  synchronized List<EdgeSlot> since(long fromMs) {
    TreeMap<Long, EdgeSlot> out = new TreeMap<>();
    for (Slot s : ring) {
      if (s == null || s.start == Long.MIN_VALUE || s.start < fromMs) {
        continue;
      }
      byte[] h = s.live != null ? Histograms.encode(s.live) : s.sealed;
      out.put(s.start, EdgeSlot.newBuilder().setStartMs(s.start).setCount(s.count).putAllErrors(s.errors)
          .setLatencyHistogram(h == null ? ByteString.EMPTY : ByteString.copyFrom(h)).build());
    }
    return List.copyOf(out.values());
  }
}
