package org.apache.ratis.server.simulation;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * Ratis' simulated RPC (ratis-server's test jar) as the network between Lodestar's Raft nodes in
 * one JVM, with links that can be cut or slowed. It lives in Ratis' package because that RPC is
 * package-private there; everything Lodestar's tests need from it is public here.
 *
 * <p>Members talk through in-memory queues, one per member. A cut link fails each request on it
 * after a short while, as a partition makes an RPC time out; a slowed member takes each request
 * to or from it late, like a member on a congested link or deep in GC pauses. A member whose
 * Raft server stopped has no queue, so requests to it fail at once, like a refused connection.
 *
 * <p>Each member sees the network through its own {@link #parameters(String)}, so that the Raft
 * clients it builds (a RaftLog sends its entries through them) are cut off with it: a member cut
 * off from the others cannot reach them as a client either. Ratis' simulated client is blocking;
 * asynchronous requests, which RaftLog sends, go one at a time per client, in order, as over
 * gRPC's ordered stream.
 */
public final class SimulatedNetwork implements AutoCloseable {
  /** How long a request on a cut link waits before it fails (gRPC would wait for its deadline). */
  private static final long CUT_FAILS_AFTER_MILLIS = 200;

  /** Cut links, each "from>to". */
  private final Set<String> cut = ConcurrentHashMap.newKeySet();
  /** Members whose requests, in and out, are each delayed by so many milliseconds. */
  private final Map<String, Integer> slow = new ConcurrentHashMap<>();
  private final MemberLinks members = new MemberLinks();
  /** The client queues of every member, which each member's {@link ClientLinks} send through. */
  private final SimulatedClientRpc clientQueues = new SimulatedClientRpc(0);
  private final AtomicInteger threads = new AtomicInteger();
  private final ExecutorService clientSends = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "simulated-client-" + threads.incrementAndGet());
    t.setDaemon(true);
    return t;
  });

  /** Chooses the simulated RPC: the transport's settings, for a server's or a client's properties. */
  public void settings(RaftProperties properties) {
    RaftConfigKeys.Rpc.setType(properties, SimulatedRpc.INSTANCE);
  }

  /** The objects the simulated RPC reads, for member {@code id}'s server and clients. */
  public Parameters parameters(String id) {
    return SimulatedRpc.Factory.newRaftParameters(members, new ClientLinks(id));
  }

  /** Gives a member its queues; before its Raft server starts, each time it starts. */
  public void attach(String id) {
    members.addPeer(RaftPeerId.valueOf(id));
    clientQueues.addPeer(RaftPeerId.valueOf(id));
  }

  /** Cuts (or mends) the link in both directions between {@code a} and each of {@code others}. */
  public void cut(String a, Iterable<String> others, boolean cutOff) {
    for (String b : others) {
      if (cutOff) {
        cut.add(a + ">" + b);
        cut.add(b + ">" + a);
      } else {
        cut.remove(a + ">" + b);
        cut.remove(b + ">" + a);
      }
    }
  }

  /** Every request to or from {@code id} takes {@code delayMillis} longer; 0 restores it. */
  public void slow(String id, int delayMillis) {
    if (delayMillis <= 0) {
      slow.remove(id);
    } else {
      slow.put(id, delayMillis);
    }
  }

  @Override
  public void close() {
    clientSends.shutdownNow();
  }

  private static void pause(long millis) throws IOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted on the simulated network");
    }
  }

  /** Requests between members, through the cuts and delays. */
  private final class MemberLinks extends SimulatedRequestReply<RaftServerRequest, RaftServerReply> {
    MemberLinks() {
      super(0);
    }

    @Override
    public RaftServerReply sendRequest(RaftServerRequest request) throws IOException {
      String from = request.getRequestorId();
      String to = request.getReplierId();
      if (cut.contains(from + ">" + to)) {
        pause(CUT_FAILS_AFTER_MILLIS);
        throw new IOException("simulated partition: " + from + " cannot reach " + to);
      }
      int delay = Math.max(slow.getOrDefault(from, 0), slow.getOrDefault(to, 0));
      if (delay > 0) {
        pause(delay);
      }
      return super.sendRequest(request);
    }
  }

  /**
   * Member {@code self}'s view of the client queues: its clients' requests pass its cuts; its
   * server takes the requests addressed to it. Asynchronous requests go in order per client.
   */
  private final class ClientLinks extends SimulatedClientRpc {
    private final String self;
    private final Map<ClientId, CompletableFuture<?>> tails = new ConcurrentHashMap<>();

    ClientLinks(String self) {
      super(0);
      this.self = self;
    }

    @Override
    public RaftClientReply sendRequest(RaftClientRequest request) throws IOException {
      String to = request.getReplierId();
      if (cut.contains(self + ">" + to)) {
        pause(CUT_FAILS_AFTER_MILLIS);
        throw new IOException("simulated partition: a client on " + self + " cannot reach " + to);
      }
      return clientQueues.sendRequest(request);
    }

    @Override
    public RaftClientRequest takeRequest(String qid) throws IOException {
      return clientQueues.takeRequest(qid);
    }

    @Override
    public void sendReply(RaftClientRequest request, RaftClientReply reply, IOException ioe) throws IOException {
      clientQueues.sendReply(request, reply, ioe);
    }

    @Override
    public void shutdown(String id) {
      clientQueues.shutdown(id);
    }

    @Override
    public void clear() {
      clientQueues.clear();
    }

    @Override
    public void addPeer(RaftPeerId id) {
      clientQueues.addPeer(id);
    }

    @Override
    public CompletableFuture<RaftClientReply> sendRequestAsync(RaftClientRequest request) {
      CompletableFuture<RaftClientReply> reply = new CompletableFuture<>();
      tails.compute(request.getClientId(), (id, tail) -> (tail == null ? CompletableFuture.completedFuture(null) : tail)
          .handleAsync((ignored, error) -> {
            try {
              complete(reply, sendRequest(request));
            } catch (IOException | RuntimeException e) {
              reply.completeExceptionally(e);
            }
            return null;
          }, clientSends));
      return reply;
    }

    @Override
    public CompletableFuture<RaftClientReply> sendRequestAsyncUnordered(RaftClientRequest request) {
      CompletableFuture<RaftClientReply> reply = new CompletableFuture<>();
      clientSends.execute(() -> {
        try {
          complete(reply, sendRequest(request));
        } catch (IOException | RuntimeException e) {
          reply.completeExceptionally(e);
        }
      });
      return reply;
    }

    /**
     * As Ratis' gRPC client does: "not the leader" and "leader not ready" answers fail the
     * request, so that the Raft client retries it at the leader they name.
     */
    private static void complete(CompletableFuture<RaftClientReply> future, RaftClientReply reply) {
      if (reply.getNotLeaderException() != null) {
        future.completeExceptionally(reply.getNotLeaderException());
      } else if (reply.getLeaderNotReadyException() != null) {
        future.completeExceptionally(reply.getLeaderNotReadyException());
      } else {
        future.complete(reply);
      }
    }
  }
}
