package io.lodestar.client.internal.stats;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLongArray;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The calls to one instance (and method) since the last window: a latency recorder and failures
 * by kind. Recording is wait-free and allocation-free (HdrHistogram's {@link Recorder}: writers
 * bump counters inside a writer-reader phaser; the reporter swaps the active histogram out).
 * Every call is timed, so the window's call count is the histogram's total count.
 */
final class EdgeRecorder {
  /** Latencies above this are recorded as this (a histogram has a fixed range). */
  static final long MAX_MICROS = 60_000_000L;
  /** Two significant digits: a 1 % error, and histograms a fifth of the size of three digits. */
  static final int DIGITS = 2;

  private final Recorder latency = new Recorder(MAX_MICROS, DIGITS);
  private final AtomicLongArray errors;
  private Histogram recycled;  // reporter thread only
  /** Windows in a row that had no call: an idle recorder is dropped after a few. */
  int idleWindows;  // reporter thread only

  EdgeRecorder(int errorKinds) {
    this.errors = new AtomicLongArray(errorKinds);
  }

  /** Any thread. {@code errorKind} is -1 for a success. */
  void record(int errorKind, long latencyNanos) {
    long micros = latencyNanos <= 0 ? 0 : latencyNanos / 1_000;
    latency.recordValue(micros > MAX_MICROS ? MAX_MICROS : micros);
    if (errorKind >= 0) {
      errors.incrementAndGet(errorKind);
    }
  }

  /** Reporter thread: the window's latencies (valid until the next call). */
  Histogram drainLatency() {
    recycled = latency.getIntervalHistogram(recycled);
    return recycled;
  }

  /** Reporter thread: failures of one kind since the last drain. */
  long drainErrors(int kind) {
    return errors.get(kind) == 0 ? 0 : errors.getAndSet(kind, 0);
  }

  /** The compressed V2 encoding of a histogram, as {@code EdgeStats.latency_histogram} carries it. */
  static byte[] encode(Histogram h) {
    ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
    int n = h.encodeIntoCompressedByteBuffer(buf);
    byte[] out = new byte[n];
    buf.flip();
    buf.get(out);
    return out;
  }
}
