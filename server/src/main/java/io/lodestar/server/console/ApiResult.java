package io.lodestar.server.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;

/** One answer of the REST API to a console write: status and JSON body (the API's error shape on failure). */
record ApiResult(int status, JsonNode body) {
  private static final ObjectMapper JSON = new ObjectMapper();

  static ApiResult of(int status, String text) {
    JsonNode body;
    try {
      body = text.isEmpty() ? MissingNode.getInstance() : JSON.readTree(text);
    } catch (IOException e) {
      body = MissingNode.getInstance();
    }
    return new ApiResult(status, body == null ? MissingNode.getInstance() : body);
  }

  boolean ok() {
    return status >= 200 && status < 300;
  }

  boolean conflict() {
    return status == 409 || status == 412;
  }

  String errorField() {
    JsonNode f = body.at("/error/field");
    return f.isMissingNode() || f.isNull() ? null : f.asText();
  }

  String errorMessage() {
    JsonNode m = body.at("/error/message");
    return m.isMissingNode() ? "the server answered " + status : m.asText();
  }
}
