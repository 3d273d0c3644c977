package io.lodestar.server.auth;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lodestar.core.LodestarException;
import io.lodestar.server.http.Json;

/** The JSON of a 401 or 403: the usual error object, plus the permission the request needs. */
public final class Denials {
  private Denials() {}

  public static ObjectNode body(LodestarException e) {
    ObjectNode root = Json.errorBody(e.codeName(), e.getMessage(), null);
    if (e.field() != null) {
      ((ObjectNode) root.get("error")).put("permission", e.field());
    }
    return root;
  }
}
