package io.lodestar.server;

import com.google.protobuf.CodedInputStream;
import io.lodestar.api.v1.state.StateSnapshot;
import io.lodestar.core.LodestarException;
import io.lodestar.server.storage.FileCrc;
import io.lodestar.server.storage.RaftSnapshotFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads a backup file of either format, checking its checksum. Streamed: the checksum over the
 * file first, then the state parsed from it, never the file's bytes in memory beside the state.
 */
final class Backups {
  private static final int LOCAL_MAGIC = 0x4C445331; // "LDS1": a single node's snapshot-*.bin
  private static final int LOCAL_HEADER = 20;       // magic, index, crc32c of the body, length of the body
  private static final int BUFFER = 1 << 16;

  private Backups() {}

  static StateSnapshot read(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer header = ByteBuffer.allocate(LOCAL_HEADER);
      while (header.hasRemaining() && ch.read(header) >= 0) {
        // the header, or as much of it as there is
      }
      header.flip();
      if (header.remaining() == LOCAL_HEADER && header.getInt(0) == LOCAL_MAGIC) {
        return readLocal(file, ch, header.getInt(12), header.getInt(16));
      }
    }
    RaftSnapshotFile.Header header;
    try {
      header = RaftSnapshotFile.check(file);
    } catch (RaftSnapshotFile.Damaged e) {
      throw damaged(file, e.getMessage().startsWith("not a Lodestar") ? "not a Lodestar backup" : "bad checksum");
    }
    return RaftSnapshotFile.parse(file, header);
  }

  /** A single node's snapshot file: its body's checksum over the file, then the body parsed. */
  private static StateSnapshot readLocal(Path file, FileChannel ch, int crcValue, int len) throws IOException {
    long size = ch.size();
    if (len != size - LOCAL_HEADER) {
      throw damaged(file, "truncated");
    }
    if (FileCrc.crc32c(ch, LOCAL_HEADER, size) != crcValue) {
      throw damaged(file, "bad checksum");
    }
    ch.position(LOCAL_HEADER);
    CodedInputStream in = CodedInputStream.newInstance(Channels.newInputStream(ch), BUFFER);
    in.setSizeLimit(Integer.MAX_VALUE);
    return StateSnapshot.parseFrom(in);
  }

  private static LodestarException damaged(Path file, String why) {
    return new LodestarException(LodestarException.Code.FAILED_PRECONDITION,
        "backup " + file.getFileName() + " cannot be used: " + why, "name");
  }
}
