package io.lodestar.spring;

import io.lodestar.client.LodestarClient;
import java.util.List;
import org.apache.commons.logging.Log;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.boot.BootstrapRegistry.InstanceSupplier;
import org.springframework.boot.ConfigurableBootstrapContext;
import org.springframework.boot.context.config.ConfigDataLocation;
import org.springframework.boot.context.config.ConfigDataLocationResolver;
import org.springframework.boot.context.config.ConfigDataLocationResolverContext;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.logging.DeferredLogFactory;

/**
 * Resolves {@code spring.config.import=lodestar:{group}/{name}[?namespace=ns]} (and
 * {@code optional:lodestar:…}). The SDK client the loader reads through is created here, in the
 * bootstrap context, because imports are resolved before any bean exists; it is promoted into the
 * application context afterwards, so registration, discovery and refresh share its one stream. A
 * refresh reuses it (Spring Cloud keeps the bootstrap context). With
 * {@code lodestar.config.enabled=false} every {@code lodestar:} import resolves to nothing, optional
 * or not, and the application starts without them.
 */
public class LodestarConfigDataLocationResolver implements ConfigDataLocationResolver<LodestarConfigDataResource> {
  static final String PREFIX = "lodestar:";
  static final String CLIENT_BEAN = "lodestarClient";
  static final String STATE_BEAN = "lodestarConfigState";
  private final Log log;

  public LodestarConfigDataLocationResolver(DeferredLogFactory logs) {
    this.log = logs.getLog(LodestarConfigDataLocationResolver.class);
  }

  /** Marks that the "disabled" notice was logged, so there is one line however many imports there are. */
  private static final class DisabledNoticed {}

  @Override
  public boolean isResolvable(ConfigDataLocationResolverContext context, ConfigDataLocation location) {
    return location.hasPrefix(PREFIX);
  }

  @Override
  public List<LodestarConfigDataResource> resolve(ConfigDataLocationResolverContext context,
      ConfigDataLocation location) {
    Binder binder = context.getBinder();
    LodestarProperties props = binder.bind(LodestarProperties.PREFIX, Bindable.of(LodestarProperties.class))
        .orElseGet(LodestarProperties::new);
    ConfigurableBootstrapContext bootstrap = context.getBootstrapContext();
    if (!props.getConfig().isEnabled()) {
      if (!bootstrap.isRegistered(DisabledNoticed.class)) {
        bootstrap.register(DisabledNoticed.class, InstanceSupplier.of(new DisabledNoticed()));
        log.info("lodestar.config.enabled=false: skipping the lodestar: config imports");
      }
      return List.of(LodestarConfigDataResource.skipped(location.getNonPrefixedValue(PREFIX)));
    }
    LodestarConfigDataResource resource = parse(location, props.getNamespace());
    if (!bootstrap.isRegistered(LodestarClient.class)) {
      bootstrap.register(LodestarClient.class, InstanceSupplier.from(() -> LodestarClients.create(props)));
      bootstrap.register(LodestarConfigState.class, InstanceSupplier.from(LodestarConfigState::new));
      bootstrap.addCloseListener(event -> {
        ConfigurableListableBeanFactory beans = event.getApplicationContext().getBeanFactory();
        LodestarClient client = event.getBootstrapContext().get(LodestarClient.class);
        beans.registerSingleton(CLIENT_BEAN, client);
        beans.registerSingleton(STATE_BEAN, event.getBootstrapContext().get(LodestarConfigState.class));
        if (beans instanceof DefaultListableBeanFactory registry) {
          registry.registerDisposableBean(CLIENT_BEAN, client::close);
        }
      });
    }
    return List.of(resource);
  }

  /** {@code lodestar:{group}/{name}[?namespace=ns]}; the {@code optional:} prefix is Spring's. */
  static LodestarConfigDataResource parse(ConfigDataLocation location, String defaultNamespace) {
    String spec = location.getNonPrefixedValue(PREFIX);
    String namespace = defaultNamespace;
    int q = spec.indexOf('?');
    if (q >= 0) {
      for (String param : spec.substring(q + 1).split("&")) {
        if (param.startsWith("namespace=") && param.length() > "namespace=".length()) {
          namespace = param.substring("namespace=".length());
        }
      }
      spec = spec.substring(0, q);
    }
    int slash = spec.indexOf('/');
    if (slash <= 0 || slash == spec.length() - 1 || spec.indexOf('/', slash + 1) >= 0) {
      throw new IllegalArgumentException("spring.config.import: '" + location
          + "' must be lodestar:{group}/{name}, e.g. lodestar:orders/application.yaml");
    }
    return new LodestarConfigDataResource(namespace, spec.substring(0, slash), spec.substring(slash + 1),
        location.isOptional());
  }
}
