package io.lodestar.server.session;

import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.lodestar.api.v1.ClientMessage;
import io.lodestar.api.v1.NamingGrpc;
import io.lodestar.api.v1.ServerMessage;
import io.lodestar.api.v1.Welcome;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The SDK's stream endpoint ({@code Naming.Connect}): one {@link Session} per client, whose
 * messages go to the domain {@link SessionHandler}s given here. Owns the set of open sessions, so
 * that a shutdown can end them all.
 */
public final class SessionService extends NamingGrpc.NamingImplBase {
  private final List<SessionHandler> handlers;
  private final Supplier<Welcome> welcome;
  private final Set<Session> open = ConcurrentHashMap.newKeySet();
  private static final Status SHUTTING_DOWN = Status.UNAVAILABLE.withDescription("server shutting down");
  /** Set by {@link #shutdown}: a client that reconnects while the port still drains is told so. */
  private volatile boolean shuttingDown;
  private volatile io.lodestar.server.limits.PerAddressCounter perAddress =
      new io.lodestar.server.limits.PerAddressCounter(Integer.MAX_VALUE);

  /** At most {@code max} open streams from one client IP address (docs/security.md, "Limits"). */
  public void limitStreamsPerAddress(int max) {
    limitStreamsPerAddress(new io.lodestar.server.limits.PerAddressCounter(max));
  }

  /** Counts this service's streams in {@code counter}, which other streams (ADS) may share. */
  public void limitStreamsPerAddress(io.lodestar.server.limits.PerAddressCounter counter) {
    this.perAddress = counter;
  }
  private final io.lodestar.server.auth.Authorizer authorizer;
  private final io.lodestar.server.auth.Revocations revocations;

  /**
   * @param welcome what a hello is answered with (server id, members, heartbeat interval); asked
   *     per hello, as members change
   */
  public SessionService(List<SessionHandler> handlers, Supplier<Welcome> welcome,
      io.lodestar.server.auth.Authorizer authorizer, io.lodestar.server.auth.Revocations revocations,
      MeterRegistry meters) {
    this.handlers = List.copyOf(handlers);
    this.authorizer = authorizer;
    this.revocations = revocations;
    this.welcome = welcome;
    Set<ClientMessage.BodyCase> taken = EnumSet.noneOf(ClientMessage.BodyCase.class);
    for (SessionHandler h : this.handlers) {
      for (ClientMessage.BodyCase kind : h.accepts()) {
        if (kind == ClientMessage.BodyCase.HELLO || !taken.add(kind)) {
          throw new IllegalArgumentException("message kind " + kind + " has more than one handler");
        }
      }
    }
    meters.gaugeCollectionSize("lodestar.clients.connected", List.of(), open);
  }

  @Override
  public StreamObserver<ClientMessage> connect(StreamObserver<ServerMessage> responseObserver) {
    ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
    String address = ctx == null ? "" : ctx.clientAddress().getHostAddress();
    if (shuttingDown) {
      // else the new stream would be reset when the port closes (RST_STREAM, INTERNAL_ERROR)
      return io.lodestar.server.limits.RefusedStream.refuse(responseObserver, SHUTTING_DOWN);
    }
    if (!perAddress.tryAcquire(address)) {
      return io.lodestar.server.limits.RefusedStream.refuse(responseObserver, Status.RESOURCE_EXHAUSTED.withDescription(
          "too many open streams from " + address + ": the limit of this server is " + perAddress.max()
          + " (--max-streams-per-address)"));
    }
    io.lodestar.server.auth.Principal principal = io.lodestar.server.auth.Authorizer.current();
    Session s = new Session((ServerCallStreamObserver<ServerMessage>) responseObserver, address, this, principal);
    open.add(s);
    if (shuttingDown) {  // opened while shutdown() walked the set
      s.abort(SHUTTING_DOWN);
      return s;
    }
    if (ctx != null && principal.token()) {
      // revoking the token ends the stream at once, saying why; the SDK's reconnects are refused
      revocations.track(principal.name(), ctx, () -> s.abort(Status.UNAUTHENTICATED.withDescription(
          "token '" + principal.name() + "' was revoked")));
    }
    return s;
  }

  /**
   * Ends every stream with UNAVAILABLE so that SDKs fail over to another node at once instead of
   * waiting out the graceful-shutdown period. Their instances stay, on their TTL, for them to
   * re-assert elsewhere.
   */
  public void shutdown() {
    shuttingDown = true;
    for (Session s : open) {
      s.abort(SHUTTING_DOWN);
    }
  }

  io.lodestar.server.auth.Authorizer authorizer() {
    return authorizer;
  }

  List<SessionHandler> handlers() {
    return handlers;
  }

  Welcome welcome() {
    return welcome.get();
  }

  void ended(Session s) {
    if (open.remove(s)) {
      perAddress.release(s.address());
    }
  }
}
