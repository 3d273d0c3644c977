package io.lodestar.server.storage;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.lodestar.api.v1.state.RaftSnapshot;
import io.lodestar.api.v1.state.StateSnapshot;
import io.lodestar.core.StateMachine;
import io.lodestar.core.StreamedSnapshot;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * A {@link RaftSnapshot} file (a cluster node's Raft snapshot, and a cluster backup) written and
 * read as a stream: bytes that parse to what {@code RaftSnapshot.toByteArray()} gives with the
 * state nested in it, without the state built whole as a protobuf, its byte array and its copy in the message
 * (about 3-6x the live state in transient heap at every snapshot, backup and start of a large
 * node). The registry is rendered one instance at a time ({@link StreamedSnapshot}).
 *
 * <p>The checksum and the state's length come before the state in the file (protobuf writes fields
 * in number order), so they are written as padded varints of five bytes and overwritten once the
 * state is out, the checksum read back from the file: the state is rendered once. Reading checks
 * the checksum over the whole state first, so a damaged file changes nothing, then restores from it.
 */
public final class RaftSnapshotFile {
  private static final int BUFFER = 1 << 16;

  private RaftSnapshotFile() {}

  /** What a file's header fields say, and where its state lies in it. */
  public record Header(long term, long index, int crc32c, long stateOffset, long stateLength) {}

  /**
   * Writes {@code state} as a RaftSnapshot at {@code term}/{@code index} to {@code target}:
   * a temporary file beside it, synced, then renamed over it, and the rename synced. Returns the
   * file's size.
   */
  public static long write(StreamedSnapshot state, long term, long index, Path target) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    long written;
    try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.READ, StandardOpenOption.TRUNCATE_EXISTING), OwnerOnly.file())) {
      // not closed: that would close the channel before its sync
      CodedOutputStream out = CodedOutputStream.newInstance(Channels.newOutputStream(ch), BUFFER);
      // the fields RaftSnapshot.writeTo writes, in its order, proto3 defaults left out but the
      // checksum and the state's length: known only once the state is out, they are padded
      // varints overwritten then
      if (term != 0) {
        out.writeUInt64(1, term);
      }
      if (index != 0) {
        out.writeUInt64(2, index);
      }
      out.writeTag(3, WireFormat.WIRETYPE_VARINT);
      long crcAt = out.getTotalBytesWritten();
      out.writeRawBytes(StreamedSnapshot.paddedVarint32(0));
      out.writeTag(4, WireFormat.WIRETYPE_LENGTH_DELIMITED);
      long sizeAt = out.getTotalBytesWritten();
      out.writeRawBytes(StreamedSnapshot.paddedVarint32(0));
      long stateAt = out.getTotalBytesWritten();
      StreamedSnapshot.Written body = state.writeTo(out);
      out.flush();
      written = ch.position();
      if (written != stateAt + body.size()) {
        throw new IOException("snapshot state wrote " + (written - stateAt) + " bytes, expected " + body.size());
      }
      if (body.size() > Integer.MAX_VALUE) {
        throw new IOException("a snapshot state of " + body.size() + " bytes is more than a protobuf message holds");
      }
      FileRegion.write(ch, body.registryLength(), stateAt + body.registryLengthAt());
      FileRegion.write(ch, StreamedSnapshot.paddedVarint32((int) body.size()), sizeAt);
      FileRegion.write(ch, StreamedSnapshot.paddedVarint32(FileRegion.crc32c(ch, stateAt, written)), crcAt);
      ch.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    DirectorySync.sync(target.toAbsolutePath().getParent()); // the rename, before Ratis purges the log it replaces
    return written;
  }

  /**
   * Reads a file's header fields and checks the state's checksum, streaming over it: throws
   * {@link Damaged} if the file is not a RaftSnapshot or its state does not match its checksum.
   */
  public static Header check(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      CodedInputStream in = CodedInputStream.newInstance(Channels.newInputStream(ch), BUFFER);
      in.setSizeLimit(Integer.MAX_VALUE);
      long term = 0;
      long index = 0;
      int crcValue = 0;
      long offset = -1;
      long length = 0;
      CRC32C crc = new CRC32C();
      try {
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
          switch (tag) {
            case (1 << 3) | WireFormat.WIRETYPE_VARINT -> term = in.readUInt64();
            case (2 << 3) | WireFormat.WIRETYPE_VARINT -> index = in.readUInt64();
            case (3 << 3) | WireFormat.WIRETYPE_VARINT -> crcValue = in.readUInt32();
            case (4 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
              // a repeated singular field: protobuf keeps the last; so does this
              crc.reset();
              length = in.readRawVarint32() & 0xFFFFFFFFL;
              offset = in.getTotalBytesRead();
              for (long left = length; left > 0; ) {
                int n = (int) Math.min(BUFFER, left);
                crc.update(in.readRawBytes(n));
                left -= n;
              }
            }
            default -> in.skipField(tag);
          }
        }
      } catch (IOException e) {
        throw new Damaged("not a Lodestar snapshot (" + e.getMessage() + ")");
      }
      if (offset < 0 || length == 0) {
        throw new Damaged("it holds no state");
      }
      if ((int) crc.getValue() != crcValue) {
        throw new Damaged("bad checksum");
      }
      return new Header(term, index, crcValue, offset, length);
    }
  }

  /** Restores {@code into} from a file {@link #check} passed, streaming its state. */
  public static void restore(Path file, Header header, StateMachine into) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ch.position(header.stateOffset());
      StreamedSnapshot.restore(state(ch, header), into);
    }
  }

  /** Parses the state of a file {@link #check} passed into one protobuf (tests compare it whole). */
  public static StateSnapshot parse(Path file, Header header) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ch.position(header.stateOffset());
      return StateSnapshot.parseFrom(state(ch, header));
    }
  }

  private static CodedInputStream state(FileChannel ch, Header header) throws IOException {
    InputStream raw = Channels.newInputStream(ch);  // closed with the channel by the caller
    CodedInputStream in = CodedInputStream.newInstance(raw, BUFFER);
    in.setSizeLimit(Integer.MAX_VALUE);
    in.pushLimit((int) header.stateLength());
    return in;
  }

  /** A file that is not a usable RaftSnapshot; the message says why. */
  public static final class Damaged extends IOException {
    Damaged(String why) {
      super(why);
    }
  }
}
