package io.lodestar.server.telemetry;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.IntCountsHistogram;

/**
 * Latency histograms as the SDK sends them (HdrHistogram, microseconds, compressed V2 encoding)
 * and as the server merges them: int counts (a 10 s slot of one edge never sees 2^31 calls) and
 * auto-resizing, so a histogram is as large as the slowest call it holds, not the widest range.
 */
final class Histograms {
  private Histograms() {}

  static IntCountsHistogram empty() {
    IntCountsHistogram h = new IntCountsHistogram(2);
    h.setAutoResize(true);
    return h;
  }

  /** Adds an encoded histogram into {@code into}; false (nothing added) when it does not decode. */
  /** A histogram's encoding larger than this is refused (a 2-digit histogram of any range is far less). */
  static final int MAX_ENCODED_BYTES = 64 * 1024;

  static boolean addEncoded(org.HdrHistogram.AbstractHistogram into, ByteString encoded) {
    Histogram h = decode(encoded);
    if (h != null) {
      into.add(h);
    }
    return h != null;
  }

  /** The histogram a report carries; null when absent, too large or broken (its latencies are skipped). */
  static Histogram decode(ByteString encoded) {
    if (encoded.isEmpty() || encoded.size() > MAX_ENCODED_BYTES) {
      return null;
    }
    try {
      return Histogram.decodeFromCompressedByteBuffer(encoded.asReadOnlyByteBuffer(), 0);
    } catch (DataFormatException | RuntimeException e) {
      return null;
    }
  }

  static boolean addEncoded(org.HdrHistogram.AbstractHistogram into, ByteBuffer encoded) {
    try {
      into.add(Histogram.decodeFromCompressedByteBuffer(encoded, 0));
      return true;
    } catch (DataFormatException | RuntimeException e) {
      return false;  // a broken or hostile report: its latencies are skipped, its counts still count
    }
  }

  static byte[] encode(org.HdrHistogram.AbstractHistogram h) {
    ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
    int n = h.encodeIntoCompressedByteBuffer(buf);
    byte[] out = new byte[n];
    buf.flip();
    buf.get(out);
    return out;
  }
}
