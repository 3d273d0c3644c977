package io.lodestar.server.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32C;

/**
 * Positional reads and writes of a region of a file. The CRC32C is read in chunks: a snapshot or
 * backup is checked in one pass before it is parsed in a second, so a damaged file is refused
 * before any of it is applied and neither pass holds the whole file. Writes patch fields whose
 * values are known only after the bytes behind them are out (lengths, checksums).
 */
public final class FileRegion {
  private static final int CHUNK = 1 << 16;

  private FileRegion() {}

  /** The checksum of {@code [from, to)}, or of what there is of it when the file is shorter. */
  public static int crc32c(FileChannel ch, long from, long to) throws IOException {
    CRC32C crc = new CRC32C();
    ByteBuffer chunk = ByteBuffer.allocate(CHUNK);
    for (long pos = from; pos < to; ) {
      chunk.clear();
      if (to - pos < CHUNK) {
        chunk.limit((int) (to - pos));
      }
      int n = ch.read(chunk, pos);
      if (n < 0) {
        break;
      }
      chunk.flip();
      crc.update(chunk);
      pos += n;
    }
    return (int) crc.getValue();
  }

  /** Writes all of {@code bytes} at {@code at}, leaving the channel's position alone. */
  public static void write(FileChannel ch, byte[] bytes, long at) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    for (long pos = at; b.hasRemaining(); ) {
      pos += ch.write(b, pos);
    }
  }
}
