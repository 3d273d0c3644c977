package io.lodestar.server;

import com.google.protobuf.CodedInputStream;
import io.lodestar.api.v1.state.StateSnapshot;
import io.lodestar.core.LodestarException;
import io.lodestar.core.StreamedSnapshot;
import io.lodestar.server.storage.FileRegion;
import io.lodestar.server.storage.RaftSnapshotFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads a backup file of either format, checking its checksum. Streamed: the checksum over the
 * file first, then the state's bytes read from it, never the file's bytes in memory.
 */
final class Backups {
  private static final int LOCAL_MAGIC = 0x4C445331; // "LDS1": a single node's snapshot-*.bin
  private static final int LOCAL_HEADER = 20;       // magic, index, crc32c of the body, length of the body
  private static final int BUFFER = 1 << 16;

  private Backups() {}

  /** The state of a backup file, parsed whole (tests build on a real backup with it). */
  static StateSnapshot read(Path file) throws IOException {
    try (InputStream in = locate(file).open()) {
      CodedInputStream c = CodedInputStream.newInstance(in, BUFFER);
      c.setSizeLimit(Integer.MAX_VALUE);
      return StateSnapshot.parseFrom(c);
    }
  }

  /**
   * Where a backup's state lies in its file, either format, once its checksum is checked: the
   * bytes of a {@code StateSnapshot}, read by a stream rather than parsed whole (a restore through
   * the log sends them deflated; a large backup as protobuf would be ~2 KB of heap per instance).
   */
  record State(Path file, long offset, long length) {
    /** The state's bytes; the caller closes the stream. */
    InputStream open() throws IOException {
      FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
      ch.position(offset);
      return com.google.common.io.ByteStreams.limit(Channels.newInputStream(ch), length);
    }

    /** Reads the state through as a restore would, keeping nothing; a backup that does not read is damaged. */
    StreamedSnapshot.Contents check() throws IOException {
      try (InputStream in = open()) {
        return StreamedSnapshot.check(CodedInputStream.newInstance(in, BUFFER));
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw damaged(file, "its state does not read (" + e.getMessage() + ")");
      } catch (IOException e) {
        if (e.getMessage() != null && e.getMessage().startsWith("snapshot has")) {
          throw damaged(file, e.getMessage());
        }
        throw e;
      }
    }
  }

  static State locate(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer header = ByteBuffer.allocate(LOCAL_HEADER);
      while (header.hasRemaining() && ch.read(header) >= 0) {
        // the header, or as much of it as there is
      }
      header.flip();
      if (header.remaining() == LOCAL_HEADER && header.getInt(0) == LOCAL_MAGIC) {
        int crcValue = header.getInt(12);
        int len = header.getInt(16);
        if (len != ch.size() - LOCAL_HEADER) {
          throw damaged(file, "truncated");
        }
        if (FileRegion.crc32c(ch, LOCAL_HEADER, ch.size()) != crcValue) {
          throw damaged(file, "bad checksum");
        }
        return new State(file, LOCAL_HEADER, len & 0xFFFFFFFFL);
      }
    }
    RaftSnapshotFile.Header header;
    try {
      header = RaftSnapshotFile.check(file);
    } catch (RaftSnapshotFile.Damaged e) {
      throw damaged(file, e.getMessage().startsWith("not a Lodestar") ? "not a Lodestar backup" : "bad checksum");
    }
    return new State(file, header.stateOffset(), header.stateLength());
  }

  private static LodestarException damaged(Path file, String why) {
    return new LodestarException(LodestarException.Code.FAILED_PRECONDITION,
        "backup " + file.getFileName() + " cannot be used: " + why, "name");
  }
}
