package io.lodestar.bench.compare;

import io.lodestar.api.v1.Instance;
import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import io.lodestar.client.ServiceListener;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/** Lodestar itself: the server of this checkout in its own JVM, driven through the Java SDK. */
class LodestarPeer implements Peer {
  private static final String NS = "default";
  private final java.util.Set<Client> clients = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private Process server;
  private String address;
  private String heap = "?";

  @Override
  public String name() {
    return "Lodestar";
  }

  @Override
  public String version() {
    return "0.1.0-SNAPSHOT (" + gitRevision() + "), SDK and server of this checkout";
  }

  @Override
  public String settings() {
    return "-Xmx" + heap + ", embedded storage (write-ahead log, fsync per group commit), ephemeral instances "
        + "with 10 s TTL renewed by one stream per client, discovery pushed; W4 reads with the SDK's fetch (one request on its gRPC stream, no cache)";
  }

  @Override
  public void start(Path workDir, String heap) throws Exception {
    this.heap = heap;
    // Started as a user starts it, through the launcher, so the product's own JVM settings apply.
    Path home = Path.of(System.getProperty("lodestar.home", ".")).toAbsolutePath();
    int port = Proc.freePort();
    address = "127.0.0.1:" + port;
    Path log = workDir.resolve("lodestar.log");
    ProcessBuilder pb = new ProcessBuilder(home.resolve("lodestar").toString(), "server", "--port",
        Integer.toString(port), "--data-dir", workDir.resolve("data").toString()).directory(workDir.toFile())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().put("JAVA_OPTS", "-Xmx" + heap);
    server = pb.start();
    HttpClient http = HttpClient.newHttpClient();
    Proc.awaitReady(server, Duration.ofSeconds(120), log, () -> http.send(HttpRequest.newBuilder(
        URI.create("http://" + address + "/health")).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode() == 200);
  }

  @Override
  public long pid() {
    return server.pid(); // the launcher execs the JVM
  }

  @Override
  public boolean jvm() {
    return true;
  }

  @Override
  public boolean holdsScaleTiers() {
    return true;
  }

  @Override
  public PeerClient client() {
    Client c = new Client(address, clients::remove);
    clients.add(c);
    return c;
  }

  @Override
  public void close() throws Exception {
    // clients first, in parallel: each says goodbye, so the server drops their instances at once
    List.copyOf(clients).parallelStream().forEach(Client::close);
    Proc.stop(server);
  }

  static String gitRevision() {
    try {
      Process p = new ProcessBuilder("git", "-C", System.getProperty("lodestar.home", "."), "rev-parse", "--short",
          "HEAD").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      return p.waitFor() == 0 ? "git " + out : "unknown revision";
    } catch (Exception e) {
      return "unknown revision";
    }
  }

  private static final class Client implements PeerClient {
    private final LodestarClient sdk;

    private final java.util.function.Consumer<Client> onClose;

    Client(String address, java.util.function.Consumer<Client> onClose) {
      this.onClose = onClose;
      this.sdk = LodestarClient.builder().servers(address).requestTimeout(Duration.ofSeconds(30)).build();
    }

    @Override
    public void register(Inst inst) {
      sdk.register(RegistrationSpec.builder().service(inst.service()).id(inst.id()).host(inst.host())
          .port(inst.port()).metadata(inst.metadata()).ttlSeconds(10).build());
    }

    @Override
    public void deregister(Inst inst) {
      sdk.deregister(NS, inst.service(), inst.id());
    }

    @Override
    public AutoCloseable watch(String service, Consumer<Set<String>> onChange) {
      ServiceListener listener = ev -> onChange.accept(
          ev.instances().stream().map(Instance::getId).collect(Collectors.toUnmodifiableSet()));
      sdk.subscribe(NS, service, listener);
      return () -> sdk.unsubscribe(NS, service, listener);
    }

    @Override
    public int read(String service) {
      return sdk.fetch(NS, service).instances().size(); // one request on the stream; the cache is not used
    }

    @Override
    public void close() {
      sdk.close();
      onClose.accept(this);
    }
  }

}
