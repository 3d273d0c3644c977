package io.lodestar.server.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CreateToken;
import io.lodestar.api.v1.state.RevokeToken;
import io.lodestar.api.v1.state.Token;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import io.lodestar.core.auth.TokenStore;
import io.lodestar.server.http.Json;
import io.lodestar.server.http.Routes;
import io.lodestar.server.storage.CommandLog;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code /v1/tokens}: create (the secret is in the answer, and nowhere else, ever), list (names
 * and policies, never secrets or digests) and revoke. Admin only ({@link RestPermissions}).
 */
public final class TokenRestService implements Routes.Owner {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final TokenStore tokens;
  private final CommandLog log;
  private final Revocations revocations;

  public TokenRestService(TokenStore tokens, CommandLog log, Revocations revocations) {
    this.tokens = tokens;
    this.log = log;
    this.revocations = revocations;
  }

  /** A new secret: 256 random bits, URL-safe, with a prefix that secret scanners can recognize. */
  public static String newSecret() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    return "lds_" + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  @Override
  public void bind(Routes routes) {
    routes.post("/v1/tokens", "create", c -> create(c.request()));
    routes.get("/v1/tokens", "list", c -> list());
    routes.delete("/v1/tokens/{name}", "revoke", c -> revoke(c.path("name")));
  }

  public CompletableFuture<HttpResponse> create(AggregatedHttpRequest req) {
    JsonNode body = Json.parseObject(req);
    Json.onlyFields(body, "", java.util.Set.of("name", "policies"));
    JsonNode name = body.get("name");
    if (name == null || !name.isTextual()) {
      throw LodestarException.invalid("name", "name is required (a string)");
    }
    JsonNode pol = body.get("policies");
    if (pol == null || !pol.isArray()) {
      throw LodestarException.invalid("policies", "policies is required: an array such as [\"read:default\", \"admin\"]");
    }
    List<String> policies = new ArrayList<>();
    for (JsonNode p : pol) {
      if (!p.isTextual()) {
        throw LodestarException.invalid("policies", "each policy is a string such as write:orders");
      }
      policies.add(p.asText().trim());
    }
    String secret = newSecret();
    Command cmd = Command.newBuilder().setCreateToken(CreateToken.newBuilder()
        .setName(Validation.name("name", name.asText())).setSecretSha256(Authorizer.digest(secret))
        .addAllPolicies(policies)).build();
    io.lodestar.core.StateMachine.validate(cmd);
    return log.submit(cmd).thenApply(r -> Json.respond(HttpStatus.CREATED,
        toJson(r.getToken()).put("secret", secret)));
  }

  public HttpResponse list() {
    ObjectNode root = Json.object();
    ArrayNode arr = root.putArray("tokens");
    tokens.list().forEach(t -> arr.add(toJson(t)));
    return Json.ok(root);
  }

  public CompletableFuture<HttpResponse> revoke(String name) {
    Validation.name("name", name);
    // A token that revokes itself gets its answer: this request is short and its write is done,
    // so it is not among the open requests the revocation ends (its streams and polls still are).
    ServiceRequestContext ctx = ServiceRequestContext.current();
    Principal caller = ctx.attr(Authorizer.PRINCIPAL);
    if (caller != null && caller.token() && caller.name().equals(name)) {
      revocations.untrack(name, ctx);
    }
    return log.submit(Command.newBuilder().setRevokeToken(RevokeToken.newBuilder().setName(name)).build())
        .thenApply(r -> Json.ok(Json.object().put("revoked", name)));
  }

  static ObjectNode toJson(Token t) {
    ObjectNode o = Json.object().put("name", t.getName());
    ArrayNode p = o.putArray("policies");
    t.getPoliciesList().forEach(p::add);
    o.put("created", Instant.ofEpochMilli(t.getCreatedMs()).toString());
    return o;
  }
}
