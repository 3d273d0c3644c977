package io.lodestar.server;

import io.lodestar.api.v1.state.RaftSnapshot;
import io.lodestar.api.v1.state.StateSnapshot;
import io.lodestar.core.LodestarException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/** Reads a backup file of either format, checking its checksum. */
final class Backups {
  private static final int LOCAL_MAGIC = 0x4C445331; // "LDS1": a single node's snapshot-*.bin

  private Backups() {}

  static StateSnapshot read(Path file) throws IOException {
    byte[] all = Files.readAllBytes(file);
    ByteBuffer b = ByteBuffer.wrap(all);
    CRC32C crc = new CRC32C();
    if (all.length >= 20 && b.getInt(0) == LOCAL_MAGIC) {
      int crcValue = b.getInt(12);
      int len = b.getInt(16);
      if (len != all.length - 20) {
        throw damaged(file, "truncated");
      }
      crc.update(all, 20, len);
      if ((int) crc.getValue() != crcValue) {
        throw damaged(file, "bad checksum");
      }
      return StateSnapshot.parseFrom(ByteBuffer.wrap(all, 20, len));
    }
    RaftSnapshot snap;
    try {
      snap = RaftSnapshot.parseFrom(all);
    } catch (IOException e) {
      throw damaged(file, "not a Lodestar backup");
    }
    crc.update(snap.getState().asReadOnlyByteBuffer());
    if (snap.getState().isEmpty() || (int) crc.getValue() != snap.getCrc32C()) {
      throw damaged(file, "bad checksum");
    }
    return StateSnapshot.parseFrom(snap.getState());
  }

  private static LodestarException damaged(Path file, String why) {
    return new LodestarException(LodestarException.Code.FAILED_PRECONDITION,
        "backup " + file.getFileName() + " cannot be used: " + why, "name");
  }
}
