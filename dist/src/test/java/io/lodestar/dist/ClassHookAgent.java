package io.lodestar.dist;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.ProtectionDomain;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * A Java agent that only registers a class-file transformer which changes nothing: what
 * OpenTelemetry's or an APM agent does first, and all it takes for the JVM's class-file load hook
 * to be on (JDK-8343427).
 */
public final class ClassHookAgent {
  private ClassHookAgent() {}

  public static void premain(String args, Instrumentation inst) {
    inst.addTransformer(new Unchanged());
  }

  /** Writes this agent as a jar into {@code dir}; returns its path. */
  static Path jar(Path dir) throws IOException {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(new Attributes.Name("Premain-Class"), ClassHookAgent.class.getName());
    Path jar = dir.resolve("class-hook-agent.jar");
    try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, manifest)) {
      for (Class<?> c : new Class<?>[] {ClassHookAgent.class, Unchanged.class}) {
        String name = c.getName().replace('.', '/') + ".class";
        j.putNextEntry(new JarEntry(name));
        try (InputStream in = ClassHookAgent.class.getClassLoader().getResourceAsStream(name)) {
          in.transferTo(j);
        }
        j.closeEntry();
      }
    }
    return jar;
  }

  private static final class Unchanged implements ClassFileTransformer {
    @Override
    public byte[] transform(ClassLoader loader, String name, Class<?> redefined, ProtectionDomain domain,
        byte[] classFile) {
      return null;  // unchanged
    }
  }
}
