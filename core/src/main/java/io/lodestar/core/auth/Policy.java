package io.lodestar.core.auth;

import io.lodestar.core.LodestarException;
import io.lodestar.core.Validation;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One grant of a token, written {@code read:NS}, {@code write:NS}, {@code secrets:NS} or
 * {@code admin}. NS is a namespace name or a pattern where {@code *} stands for any run of name
 * characters ({@code *} alone: every namespace).
 *
 * <p>What each grants (docs/security.md): {@code read} every read of the namespace — naming,
 * configs (secret ones masked) and rules; {@code write} those reads and every write of them;
 * {@code secrets} reading secret configs in clear (and the reads of {@code read});
 * {@code admin} everything, including tokens, namespaces and the cluster. Naming, configs and
 * rules share one grant per namespace: the contract names only these four, and a finer split can
 * be added later as {@code write:NS:rules} without renaming these.
 */
public record Policy(Action action, String namespacePattern, Pattern matcher) {
  private static final Pattern PATTERN = Pattern.compile("[A-Za-z0-9._:@*-]+");

  /** What a request needs; {@link #ADMIN} also covers everything else. */
  public enum Action {
    READ, WRITE, SECRETS, ADMIN;

    public String wireName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public static Policy parse(String text) {
    if (text == null || text.isBlank()) {
      throw LodestarException.invalid("policies", "a policy is empty (expected read:NS, write:NS, secrets:NS or admin)");
    }
    String t = text.trim();
    if (t.equals("admin")) {
      return new Policy(Action.ADMIN, "*", null);
    }
    int colon = t.indexOf(':');
    Action action = colon < 0 ? null : switch (t.substring(0, colon)) {
      case "read" -> Action.READ;
      case "write" -> Action.WRITE;
      case "secrets" -> Action.SECRETS;
      default -> null;
    };
    if (action == null) {
      throw LodestarException.invalid("policies",
          "policy '" + t + "' is not one of read:NS, write:NS, secrets:NS, admin");
    }
    String ns = t.substring(colon + 1);
    if (ns.isEmpty()) {
      throw LodestarException.invalid("policies", "policy '" + t + "' names no namespace (use * for all)");
    }
    // a pattern is a namespace name with * in places: only name characters besides the stars
    if (ns.length() > Validation.MAX_NAME_LENGTH || !PATTERN.matcher(ns).matches()) {
      throw LodestarException.invalid("policies", "policy '" + t + "' names no valid namespace or pattern ("
          + io.lodestar.api.Limits.NAME_ALPHABET + ", and * for any run of them)");
    }
    StringBuilder regex = new StringBuilder();
    String[] parts = ns.split("\\*", -1);
    for (int i = 0; i < parts.length; i++) {
      regex.append(i == 0 ? "" : ".*").append(parts[i].isEmpty() ? "" : Pattern.quote(parts[i]));
    }
    return new Policy(action, ns, Pattern.compile(regex.toString()));
  }

  public static List<Policy> parseAll(List<String> texts) {
    if (texts.isEmpty()) {
      throw LodestarException.invalid("policies", "policies are required (e.g. read:default, write:*, admin)");
    }
    return texts.stream().map(Policy::parse).toList();
  }

  /** Whether this grant allows {@code needed} on namespace {@code ns} ("" for cluster-wide). */
  public boolean allows(Action needed, String ns) {
    if (action == Action.ADMIN) {
      return true;
    }
    if (needed == Action.ADMIN || ns == null || !matcher.matcher(ns).matches()) {
      return false;
    }
    return switch (needed) {
      case READ -> true; // read, write and secrets all include reading
      case WRITE -> action == Action.WRITE;
      case SECRETS -> action == Action.SECRETS;
      case ADMIN -> false;
    };
  }

  @Override
  public String toString() {
    return action == Action.ADMIN ? "admin" : action.wireName() + ":" + namespacePattern;
  }
}
