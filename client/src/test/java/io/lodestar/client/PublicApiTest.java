package io.lodestar.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The SDK's public API, as the compiler sees it: every public or protected type, constructor,
 * method and field of {@code io.lodestar.client} and its subpackages except {@code internal},
 * one signature a line, sorted, compared with the checked-in {@code client/api/lodestar-client.api}.
 * A change to the API therefore shows in review as a change to that file; no signature may name a
 * generated ({@code io.lodestar.api.v1}), protobuf, grpc or internal type, which the shaded
 * artifact relocates or which may change in any release.
 */
class PublicApiTest {
  static final Path API_FILE = Path.of("api", "lodestar-client.api");
  static final String UPDATE_PROPERTY = "lodestar.api.update";
  static final List<String> FORBIDDEN = List.of("io.lodestar.api.v1.", "com.google.protobuf.", "io.grpc.",
      "io.lodestar.client.internal.", "io.lodestar.client.shaded.");

  @Test
  void noSignatureNamesAGeneratedProtobufGrpcOrInternalType() throws Exception {
    List<String> leaks = signatures().stream().filter(l -> FORBIDDEN.stream().anyMatch(l::contains)).toList();
    assertThat(leaks).as("public signatures that name a type of " + FORBIDDEN).isEmpty();
  }

  @Test
  void apiMatchesTheCheckedInFile() throws Exception {
    List<String> now = signatures();
    if (Boolean.getBoolean(UPDATE_PROPERTY)) {
      Files.write(API_FILE, now, StandardCharsets.UTF_8);
      return;
    }
    List<String> recorded = Files.exists(API_FILE) ? Files.readAllLines(API_FILE, StandardCharsets.UTF_8) : List.of();
    List<String> added = now.stream().filter(l -> !recorded.contains(l)).toList();
    List<String> removed = recorded.stream().filter(l -> !now.contains(l)).toList();
    assertThat(added.isEmpty() && removed.isEmpty())
        .as("the SDK's public API differs from client/%s.%n added:%n  %s%n removed:%n  %s%nIf the change is "
            + "deliberate, regenerate the file and commit it with the change: mvn -B -pl client -am verify "
            + "-Dtest=PublicApiTest -Dsurefire.failIfNoSpecifiedTests=false -D%s=true", API_FILE,
            String.join("\n  ", added), String.join("\n  ", removed), UPDATE_PROPERTY)
        .isTrue();
  }

  @Test
  void docsSdkExamplesImportOnlyTheApi() throws Exception {
    String doc = Files.readString(Path.of("..", "docs", "sdk.md"), StandardCharsets.UTF_8);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^import ([\\w.]+);$").matcher(doc);
    List<String> imports = new ArrayList<>();
    while (m.find()) {
      imports.add(m.group(1));
    }
    assertThat(imports).as("docs/sdk.md's example imports").isNotEmpty()
        .noneMatch(i -> FORBIDDEN.stream().anyMatch(i::startsWith));
    for (String i : imports) {
      Class.forName(i, false, PublicApiTest.class.getClassLoader());  // the example names real classes
    }
  }

  /** The API's signatures: each type (sorted by name), then its members (sorted), indented. */
  static List<String> signatures() throws IOException, URISyntaxException, ClassNotFoundException {
    Path root = Path.of(LodestarClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<Class<?>> types = new ArrayList<>();
    try (Stream<Path> files = Files.walk(root.resolve("io/lodestar/client"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
        String name = root.relativize(f).toString().replace(f.getFileSystem().getSeparator(), ".")
            .replaceAll("\\.class$", "");
        if (name.startsWith("io.lodestar.client.internal.")) {
          continue;
        }
        Class<?> c = Class.forName(name, false, PublicApiTest.class.getClassLoader());
        if (visible(c)) {
          types.add(c);
        }
      }
    }
    types.sort(java.util.Comparator.comparing(Class::getName));
    List<String> out = new ArrayList<>();
    for (Class<?> c : types) {
      describe(c, out);
    }
    return out;
  }

  private static void describe(Class<?> c, List<String> lines) {
    StringBuilder type = new StringBuilder(c.toGenericString());
    Type sup = c.getGenericSuperclass();
    if (sup != null && sup != Object.class && !c.isEnum() && !c.isRecord()) {
      type.append(" extends ").append(sup.getTypeName());
    }
    if (c.getGenericInterfaces().length > 0) {
      type.append(c.isInterface() ? " extends " : " implements ").append(Arrays.stream(c.getGenericInterfaces())
          .map(Type::getTypeName).collect(Collectors.joining(",")));
    }
    lines.add(type.toString());
    Set<String> out = new java.util.TreeSet<>();
    // members: the type's own, and those it inherits from a superclass callers cannot name
    List<Class<?>> owners = new ArrayList<>(List.of(c));
    for (Class<?> s = c.getSuperclass(); s != null && !Modifier.isPublic(s.getModifiers()); s = s.getSuperclass()) {
      owners.add(s);
    }
    for (Class<?> o : owners) {
      for (Field f : o.getDeclaredFields()) {
        add(f, f.toGenericString(), out);
      }
      for (Constructor<?> k : o == c ? o.getDeclaredConstructors() : new Constructor<?>[0]) {
        add(k, k.toGenericString(), out);
      }
      for (Method m : o.getDeclaredMethods()) {
        if (!m.isBridge()) {
          add(m, m.toGenericString(), out);
        }
      }
    }
    lines.addAll(out);
  }

  private static void add(Member m, String signature, Set<String> out) {
    if (!m.isSynthetic() && exposed(m.getModifiers())) {
      out.add("  " + signature);
    }
  }

  private static boolean exposed(int modifiers) {
    return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
  }

  /** A type an application can name: public or protected, and so is every type enclosing it. */
  private static boolean visible(Class<?> c) {
    for (Class<?> x = c; x != null; x = x.getDeclaringClass()) {
      if (x.isAnonymousClass() || x.isLocalClass() || !exposed(x.getModifiers())) {
        return false;
      }
    }
    return true;
  }
}
