package io.lodestar.server.session;

import io.lodestar.api.v1.ClientMessage;
import java.util.Set;

/**
 * One domain of the SDK stream (naming, config, quota, ...). A session hands each message of the
 * kinds a handler {@link #accepts()} to the part that handler attached to it, so a new domain plugs
 * in as one more handler instead of growing the session.
 */
public interface SessionHandler {
  /** The message kinds this handler takes; no two handlers of one service share a kind. */
  Set<ClientMessage.BodyCase> accepts();

  /** A session said hello: this domain's state for it. Runs on the stream's event loop. */
  Part attach(Session session);

  /** A handler's state for one session. Messages arrive one at a time, in stream order. */
  interface Part {
    /**
     * Handles one message. Throwing {@link io.lodestar.core.LodestarException} answers the
     * request with an {@code Error}; the stream stays open.
     */
    void onMessage(long requestId, ClientMessage message);

    /** The stream can take more after it could not. */
    default void onReady() {}

    /**
     * The session ended: {@code clean} when the client completed the stream (its registrations
     * go), not when it broke or the server shut down (they stay on their TTL).
     */
    default void onClose(boolean clean) {}
  }
}
