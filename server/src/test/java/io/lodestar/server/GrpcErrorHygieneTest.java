package io.lodestar.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a gRPC client is told about a malformed call names no framework or internal class. */
class GrpcErrorHygieneTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static WebClient h2c;

  @BeforeAll
  static void start() {
    server = LodestarServer.builder().port(0).dataDir(dir).build().start();
    h2c = WebClient.of("h2c://127.0.0.1:" + server.port());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void garbageMessageGetsAPlainStatus() {
    byte[] junk = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 0x01, 0x02};
    String message = call(frame(junk, junk.length));
    assertClean(message);
  }

  @Test
  void aCompressedMessageWithoutEncodingGetsAPlainStatus() {
    byte[] body = frame(new byte[] {1, 2, 3}, 3);
    body[0] = 1;  // "compressed", with no grpc-encoding
    assertClean(call(body));
  }

  @Test
  void anOversizedMessageGetsAPlainAnswer() {
    byte[] big = new byte[LodestarServer.MAX_REQUEST_BYTES + 10];
    assertClean(call(frame(big, big.length)));
  }

  @Test
  void descriptionsThatNameInternalsAreReplaced() {
    var handler = new io.lodestar.server.naming.GrpcErrors();
    io.grpc.Status s = handler.apply(null, io.grpc.Status.RESOURCE_EXHAUSTED.withDescription(
        "com.linecorp.armeria.common.ContentTooLargeException: maxContentLength: 1048576"), null, new io.grpc.Metadata());
    assertThat(s.getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED);
    assertClean(s.getDescription());
    io.grpc.Status kept = handler.apply(null, io.grpc.Status.INVALID_ARGUMENT.withDescription("port must be 1-65535"),
        null, new io.grpc.Metadata());
    assertThat(kept.getDescription()).isEqualTo("port must be 1-65535");
  }

  private static void assertClean(String message) {
    assertThat(message).doesNotContainIgnoringCase("armeria").doesNotContain("com.linecorp").doesNotContain("io.netty")
        .doesNotContain("Exception").doesNotContain("io.lodestar").doesNotContain("io.grpc");
  }

  private static byte[] frame(byte[] payload, int declaredLength) {
    return ByteBuffer.allocate(5 + payload.length).put((byte) 0).putInt(declaredLength).put(payload).array();
  }

  /** The grpc-message the server answers (from the trailers, or the headers of a trailers-only answer). */
  private static String call(byte[] body) {
    RequestHeaders headers = RequestHeaders.builder(HttpMethod.POST, "/lodestar.v1.Naming/Connect")
        .contentType(MediaType.parse("application/grpc+proto")).add("te", "trailers").build();
    AggregatedHttpResponse r = h2c.execute(HttpRequest.of(headers, HttpData.wrap(body))).aggregate().join();
    String status = r.trailers().get("grpc-status", r.headers().get("grpc-status", ""));
    String message = r.trailers().get("grpc-message", r.headers().get("grpc-message", ""));
    // a refusal either way: a gRPC status other than OK, or an HTTP error
    assertThat(!status.isEmpty() && !status.equals("0") || r.status().isError())
        .as("refused: http %s, grpc-status %s", r.status(), status).isTrue();
    // everything the client sees, not just grpc-message
    return message + " " + r.headers() + " " + r.trailers() + " " + r.contentUtf8();
  }
}
