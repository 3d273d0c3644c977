package io.lodestar.core.auth;

import com.google.protobuf.ByteString;
import io.lodestar.api.v1.state.Command;
import io.lodestar.api.v1.state.CommandResult;
import io.lodestar.api.v1.state.CreateToken;
import io.lodestar.api.v1.state.Token;
import io.lodestar.api.v1.state.TokenSnapshot;
import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The API tokens: replicated state like the registry, so every node knows every token and a
 * revocation reaches all of them through the log. Only each secret's SHA-256 is held (see
 * {@link Token}); a request's secret is hashed and looked up.
 *
 * <p>Threading: {@link #apply} and {@link #flush} on the log's applier thread; lookups on any
 * thread over concurrent maps of immutable protos. Deterministic: the creation time is the
 * command's.
 */
public final class TokenStore {
  public static final int SHA256_BYTES = 32;
  public static final int MAX_POLICIES = 64;

  /** Told, at the end of the batch that applied it, which tokens were revoked. */
  public interface Listener {
    void revoked(String name);
  }

  private final ConcurrentSkipListMap<String, Token> byName = new ConcurrentSkipListMap<>();
  private final Map<ByteString, Token> byHash = new ConcurrentHashMap<>();
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private final List<String> revokedInBatch = new ArrayList<>();
  private volatile boolean bootstrapped;

  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  public static boolean handles(Command cmd) {
    return cmd.hasCreateToken() || cmd.hasRevokeToken();
  }

  public static void validate(Command cmd) {
    if (cmd.hasCreateToken()) {
      CreateToken c = cmd.getCreateToken();
      Validation.name("name", c.getName());
      if (c.getSecretSha256().size() != SHA256_BYTES) {
        throw LodestarException.invalid("secretSha256", "a token's secret digest must be 32 bytes (SHA-256)");
      }
      if (c.getPoliciesCount() > MAX_POLICIES) {
        throw LodestarException.invalid("policies", "at most " + MAX_POLICIES + " policies");
      }
      Policy.parseAll(c.getPoliciesList());
    } else {
      Validation.name("name", cmd.getRevokeToken().getName());
    }
  }

  public CommandResult apply(Command cmd) {
    if (cmd.hasCreateToken()) {
      CreateToken c = cmd.getCreateToken();
      if (c.getBootstrap() && bootstrapped) {
        throw new LodestarException(LodestarException.Code.ALREADY_EXISTS,
            "this cluster already made its first token", "bootstrap");
      }
      if (byName.containsKey(c.getName())) {
        throw new LodestarException(LodestarException.Code.ALREADY_EXISTS,
            "token " + c.getName() + " already exists", "name");
      }
      if (byHash.containsKey(c.getSecretSha256())) {
        // 256 random bits do not collide; a repeated digest is a replayed secret
        throw new LodestarException(LodestarException.Code.ALREADY_EXISTS, "this secret is already in use", "secret");
      }
      Token t = Token.newBuilder().setName(c.getName()).setSecretSha256(c.getSecretSha256())
          .addAllPolicies(c.getPoliciesList()).setCreatedMs(cmd.getTimeMs()).build();
      byName.put(t.getName(), t);
      byHash.put(t.getSecretSha256(), t);
      bootstrapped = true;
      return CommandResult.newBuilder().setToken(t.toBuilder().clearSecretSha256()).build();
    }
    String name = cmd.getRevokeToken().getName();
    Token t = byName.remove(name);
    if (t == null) {
      throw LodestarException.notFound("token " + name + " not found");
    }
    byHash.remove(t.getSecretSha256());
    revokedInBatch.add(name);
    return CommandResult.newBuilder().setToken(t.toBuilder().clearSecretSha256()).build();
  }

  public void flush() {
    if (revokedInBatch.isEmpty()) {
      return;
    }
    for (String name : revokedInBatch) {
      for (Listener l : listeners) {
        l.revoked(name);
      }
    }
    revokedInBatch.clear();
  }

  /** The token whose secret has this SHA-256, or null. */
  public Token byDigest(ByteString sha256) {
    return byHash.get(sha256);
  }

  public Token get(String name) {
    return byName.get(name);
  }

  /** Every token, by name. */
  public List<Token> list() {
    return List.copyOf(byName.values());
  }

  /** Whether a token was ever created here (no bootstrap token again). */
  public boolean bootstrapped() {
    return bootstrapped;
  }

  public TokenSnapshot snapshot() {
    return TokenSnapshot.newBuilder().addAllTokens(byName.values()).setBootstrapped(bootstrapped).build();
  }

  public void restore(TokenSnapshot snapshot) {
    byName.clear();
    byHash.clear();
    for (Token t : snapshot.getTokensList()) {
      byName.put(t.getName(), t);
      byHash.put(t.getSecretSha256(), t);
    }
    bootstrapped = snapshot.getBootstrapped();
  }
}
