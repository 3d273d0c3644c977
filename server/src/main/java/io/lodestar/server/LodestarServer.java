package io.lodestar.server;

import java.nio.file.Path;

/** One Lodestar node. Skeleton: the implementation lands next. */
public final class LodestarServer implements AutoCloseable {
  public static Builder builder() {
    return new Builder();
  }

  public static final class Builder {
    String bind = "127.0.0.1";
    int port = 8700;
    Path dataDir = Path.of("data");

    public Builder bind(String bind) { this.bind = bind; return this; }
    public Builder port(int port) { this.port = port; return this; }   // 0 = a free port
    public Builder dataDir(Path dataDir) { this.dataDir = dataDir; return this; }
    public LodestarServer build() { return new LodestarServer(this); }
  }

  private LodestarServer(Builder b) {}

  /** Replays storage, then starts serving. Returns once /health answers 200. */
  public LodestarServer start() { throw new UnsupportedOperationException("not yet"); }

  /** The port actually bound. */
  public int port() { throw new UnsupportedOperationException("not yet"); }

  /** Stops serving and closes storage (a clean shutdown). */
  @Override
  public void close() {}
}
