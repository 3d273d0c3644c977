package io.lodestar.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import io.lodestar.core.LodestarException;

/** JSON in and out of the REST API, and the one error shape: {"error": {code, message, field?}}. */
public final class Json {
  /**
   * Strict: a body is one JSON value, nothing after it, and no key twice in an object (the last one
   * silently won: {"id":"a",…,"id":"b"} registered b), as rule and config bodies already read.
   */
  public static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private Json() {}

  public static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  /**
   * A request body as text, refusing bytes that are not UTF-8 (JSON's encoding): decoding with
   * replacement characters would store something other than what the client sent.
   */
  public static String utf8(com.linecorp.armeria.common.AggregatedHttpRequest req) {
    String text = utf8OrNull(req.content().array());
    if (text == null) {
      throw LodestarException.invalid("body", "request body is not valid UTF-8");
    }
    return text;
  }

  /** Bytes as UTF-8 text, or null when they are not UTF-8 (never replacement characters). */
  public static String utf8OrNull(byte[] bytes) {
    try {
      return java.nio.charset.StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
          .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      return null;
    }
  }

  /**
   * For an action that takes no body: none, or {} (as tools send), is fine; anything else is refused
   * rather than ignored, so that a request meant to say more does not run without it.
   */
  public static void requireNoBody(com.linecorp.armeria.common.AggregatedHttpRequest req) {
    String text = utf8(req);
    if (!text.isBlank()) {
      onlyFields(parseObject(text), "", java.util.Set.of());
    }
  }

  /** Parses a request's body, which must be a JSON object in UTF-8. */
  public static JsonNode parseObject(com.linecorp.armeria.common.AggregatedHttpRequest req) {
    return parseObject(utf8(req));
  }

  /** Parses a request body that must be a JSON object. */
  public static JsonNode parseObject(String body) {
    if (body == null || body.isBlank()) {
      throw LodestarException.invalid("body", "request body is empty; expected a JSON object");
    }
    JsonNode node;
    try {
      node = MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? ""
          : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
      throw LodestarException.invalid("body", "malformed JSON" + where + ": " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw LodestarException.invalid("body", "expected a JSON object");
    }
    return node;
  }

  /** Refuses any field of {@code body} not in {@code allowed}; {@code prefix} names where the object sits ("check."). */
  public static void onlyFields(JsonNode body, String prefix, java.util.Set<String> allowed) {
    for (java.util.Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!allowed.contains(f)) {
        throw LodestarException.invalid(prefix + f, "unknown field '" + prefix + f + "'");
      }
    }
  }

  public static HttpResponse ok(JsonNode body) {
    return respond(HttpStatus.OK, body);
  }

  public static HttpResponse respond(HttpStatus status, JsonNode body) {
    return HttpResponse.of(status, MediaType.JSON_UTF_8, body.toString());
  }

  public static HttpResponse respond(ResponseHeaders headers, JsonNode body) {
    return HttpResponse.of(headers, com.linecorp.armeria.common.HttpData.ofUtf8(body.toString()));
  }

  public static HttpStatus statusOf(LodestarException e) {
    return switch (e.code()) {
      case INVALID_ARGUMENT -> HttpStatus.BAD_REQUEST;
      case NOT_FOUND -> HttpStatus.NOT_FOUND;
      case ALREADY_EXISTS, FAILED_PRECONDITION, CONFLICT -> HttpStatus.CONFLICT;
      case TOO_LARGE -> HttpStatus.REQUEST_ENTITY_TOO_LARGE;
      case UNAVAILABLE -> HttpStatus.SERVICE_UNAVAILABLE;
      case INTERNAL -> HttpStatus.INTERNAL_SERVER_ERROR;
      case UNAUTHENTICATED -> HttpStatus.UNAUTHORIZED;
      case PERMISSION_DENIED -> HttpStatus.FORBIDDEN;
      case TOO_MANY_REQUESTS -> HttpStatus.TOO_MANY_REQUESTS;
    };
  }

  public static ObjectNode errorBody(String code, String message, String field) {
    ObjectNode err = object();
    err.put("code", code);
    err.put("message", message);
    if (field != null) {
      err.put("field", field);
    }
    ObjectNode root = object();
    root.set("error", err);
    return root;
  }

  public static HttpResponse error(LodestarException e) {
    HttpResponse r = respond(statusOf(e), errorBody(e.codeName(), e.getMessage(), e.field()));
    if (e.retryAfterMillis() > 0) {
      // an overloaded node's hint, in whole seconds as HTTP has it (RFC 9110, Retry-After)
      long seconds = Math.max(1, (e.retryAfterMillis() + 999) / 1000);
      return r.mapHeaders(h -> h.toBuilder().setLong(com.linecorp.armeria.common.HttpHeaderNames.RETRY_AFTER, seconds)
          .build());
    }
    return r;
  }
}
