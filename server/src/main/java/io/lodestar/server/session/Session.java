package io.lodestar.server.session;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.Error;
import io.lodestar.api.v1.ErrorCode;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.api.v1.Welcome;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import io.lodestar.server.config.ConfigPushHub;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One SDK stream: its hello, who the client is, sending (serialized: pushes and answers come
 * from several threads), and its end. Everything else is a domain's: each message goes to the
 * part its {@link SessionHandler} attached at hello.
 */
public final class Session implements StreamObserver<ClientMessage>, ConfigPushHub.Subscriber {
  private static final Logger log = LoggerFactory.getLogger(Session.class);

  private final ServerCallStreamObserver<ServerMessage> out;
  private final String address;
  private final SessionService service;
  // who opened the stream (its token), fixed for the stream's life; a revocation ends the stream
  private final io.lodestar.server.auth.Principal principal;
  // written once by hello (on the stream's event loop), read by pushes on other threads
  private volatile String clientId;
  private volatile Map<String, String> labels = Map.of();
  private volatile List<SessionHandler.Part> parts = List.of();
  private final Map<ClientMessage.BodyCase, SessionHandler.Part> routes = new EnumMap<>(ClientMessage.BodyCase.class);
  private boolean closed; // guarded by this: no more sends
  private final AtomicBoolean ended = new AtomicBoolean();

  Session(ServerCallStreamObserver<ServerMessage> out, String address, SessionService service,
      io.lodestar.server.auth.Principal principal) {
    this.principal = principal;
    this.out = out;
    this.address = address;
    this.service = service;
    out.setOnReadyHandler(() -> parts.forEach(SessionHandler.Part::onReady));
    out.setOnCancelHandler(() -> end(false));
  }

  /** The client's id from its hello; null before. */
  @Override
  public String clientId() {
    return clientId;
  }

  @Override
  public String address() {
    return address;
  }

  @Override
  public boolean mayReadSecrets(String namespace) {
    return service.authorizer().allows(principal, io.lodestar.core.auth.Policy.Action.SECRETS, namespace);
  }

  /** Who opened the stream. */
  public io.lodestar.server.auth.Principal principal() {
    return principal;
  }

  @Override
  public Map<String, String> labels() {
    return labels;
  }

  @Override
  public boolean isReady() {
    return out.isReady();
  }

  @Override
  public synchronized void send(ServerMessage message) {
    if (!closed) {
      try {
        out.onNext(message);
      } catch (RuntimeException e) {
        closed = true; // cancelled under us; the cancel handler cleans up
      }
    }
  }

  @Override
  public void onNext(ClientMessage m) {
    long rid = m.getRequestId();
    try {
      if (m.getBodyCase() == ClientMessage.BodyCase.HELLO) {
        hello(rid, m);
        return;
      }
      if (clientId == null) {
        throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION,
            "the first message of a stream must be hello", "hello");
      }
      SessionHandler.Part part = routes.get(m.getBodyCase());
      if (part == null) {
        throw LodestarException.invalid("body", "unknown message " + m.getBodyCase());
      }
      io.lodestar.server.auth.StreamPermissions.check(service.authorizer(), principal, m);
      part.onMessage(rid, m);
    } catch (LodestarException e) {
      sendError(rid, e);
    }
  }

  private void hello(long rid, ClientMessage m) {
    if (clientId != null) {
      throw new LodestarException(LodestarException.Code.FAILED_PRECONDITION, "hello was already sent", "hello");
    }
    String id = m.getHello().getClientId();
    Validation.name("clientId", id);
    labels = Map.copyOf(m.getHello().getLabelsMap());
    clientId = id;
    List<SessionHandler.Part> attached = new ArrayList<>();
    for (SessionHandler h : service.handlers()) {
      SessionHandler.Part p = h.attach(this);
      attached.add(p);
      h.accepts().forEach(kind -> routes.put(kind, p));
    }
    parts = List.copyOf(attached);
    Welcome welcome = service.welcome();
    send(ServerMessage.newBuilder().setRequestId(rid).setWelcome(welcome).build());
    log.debug("Client {} connected", id);
  }

  /** Answers a request with an error; a failure that is not a LodestarException is logged, not described. */
  public void sendError(long requestId, Throwable t) {
    Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    Error.Builder e = Error.newBuilder();
    if (c instanceof LodestarException le) {
      e.setErrorCode(le.code().wire()).setCode(le.codeName()).setMessage(le.getMessage());
      if (le.field() != null) {
        e.setField(le.field());
      }
      e.setRetryAfterMs(le.retryAfterMillis()); // an overloaded node's hint: the SDK waits at least this long
    } else {
      log.warn("Stream request failed", c);
      e.setErrorCode(ErrorCode.INTERNAL).setCode(LodestarException.Code.INTERNAL.wireName())
          .setMessage("internal error; see the server log");
    }
    send(ServerMessage.newBuilder().setRequestId(requestId).setError(e).build());
  }

  @Override
  public void onError(Throwable t) {
    end(false);
  }

  @Override
  public void onCompleted() {
    if (end(true)) {
      try {
        out.onCompleted();
      } catch (RuntimeException ignored) {
        // already cancelled
      }
    }
  }

  /** Ends the stream from the server's side; registrations stay on their TTL. */
  void abort(Status status) {
    if (end(false)) {
      synchronized (this) {
        try {
          out.onError(status.asRuntimeException());
        } catch (RuntimeException ignored) {
          // already cancelled
        }
      }
    }
  }

  /** Runs once, whichever way the stream ends; false if it had already ended. */
  private boolean end(boolean clean) {
    if (!ended.compareAndSet(false, true)) {
      return false;
    }
    synchronized (this) {
      closed = true;
    }
    service.ended(this);
    for (SessionHandler.Part p : parts) {
      p.onClose(clean);
    }
    if (!clean) {
      log.debug("Client {} stream ended; its instances now run on their TTL", clientId);
    }
    return true;
  }
}
