package io.lodestar.server.consul;

import com.fasterxml.jackson.databind.JsonNode;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;

/**
 * Consul's response shapes. Every read carries {@code X-Consul-Index} (404s included: Spring's
 * config watch blocks on missing keys) and the leader headers ecwid reads.
 */
final class ConsulResponses {
  static final String INDEX = "X-Consul-Index";

  private ConsulResponses() {}

  static HttpResponse json(JsonNode body, long index) {
    return HttpResponse.of(headers(HttpStatus.OK, index).contentType(MediaType.JSON_UTF_8).build(),
        HttpData.ofUtf8(body.toString()));
  }

  static HttpResponse raw(byte[] body, long index) {
    return HttpResponse.of(headers(HttpStatus.OK, index).contentType(MediaType.OCTET_STREAM).build(),
        HttpData.wrap(body));
  }

  static HttpResponse notFound(long index) {
    return HttpResponse.of(headers(HttpStatus.NOT_FOUND, index).build());
  }

  /** A write's answer: 200 and an empty body (agent), or {@code true}/{@code false} (KV). */
  static HttpResponse ok() {
    return HttpResponse.of(ResponseHeaders.builder(HttpStatus.OK).contentLength(0).build());
  }

  static HttpResponse bool(boolean ok) {
    return HttpResponse.of(HttpStatus.OK, MediaType.JSON_UTF_8, ok ? "true" : "false");
  }

  static HttpResponse error(HttpStatus status, String message) {
    return HttpResponse.of(status, MediaType.PLAIN_TEXT_UTF_8, message);
  }

  private static ResponseHeadersBuilder headers(HttpStatus status, long index) {
    return ResponseHeaders.builder(status).add(INDEX, Long.toString(Math.max(1, index)))
        .add("X-Consul-Knownleader", "true").add("X-Consul-Lastcontact", "0");
  }
}
