package io.lodestar.spring;

import io.lodestar.client.LodestarClient;
import io.lodestar.client.config.Config;
import io.lodestar.client.config.ConfigListener;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.cloud.endpoint.event.RefreshEvent;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.event.GenericApplicationListener;
import org.springframework.core.ResolvableType;

/**
 * Turns a pushed config version into a Spring Cloud refresh: listens (through the SDK) to every
 * imported config and, when a version differs from the one loaded, publishes a {@link RefreshEvent}.
 * Spring Cloud then re-runs the imports (the loader answers from the SDK's cache), rebuilds
 * {@code @RefreshScope} beans and rebinds {@code @ConfigurationProperties}. Runs on the SDK's
 * listener thread, so refreshes never overlap; a push arrives within milliseconds of the publish.
 * Imports that appear after a refresh are watched from then on.
 */
public class LodestarConfigRefresher implements GenericApplicationListener {
  private static final Log log = LogFactory.getLog(LodestarConfigRefresher.class);
  private final LodestarClient client;
  private final LodestarConfigState state;
  private final ApplicationEventPublisher publisher;
  private final Set<LodestarConfigDataResource> watched = ConcurrentHashMap.newKeySet();
  private volatile boolean ready;

  public LodestarConfigRefresher(LodestarClient client, LodestarConfigState state, ApplicationEventPublisher publisher) {
    this.client = client;
    this.state = state;
    this.publisher = publisher;
  }

  @Override
  public boolean supportsEventType(ResolvableType eventType) {
    return ApplicationReadyEvent.class.isAssignableFrom(eventType.toClass());
  }

  @Override
  public void onApplicationEvent(ApplicationEvent event) {
    ready = true;
    watchNewImports();
  }

  private void watchNewImports() {
    for (LodestarConfigDataResource r : state.imported()) {
      if (watched.add(r)) {
        ConfigListener l = c -> onChange(r, c);
        client.configs().addListener(r.namespace(), r.group(), r.name(), l);
      }
    }
  }

  private void onChange(LodestarConfigDataResource r, Config c) {
    if (!ready || !state.isNew(r, c)) {
      return;
    }
    log.info("lodestar config " + r.key() + " is now version " + c.version() + (c.gray() ? " (gray)" : "")
        + "; refreshing the environment");
    publisher.publishEvent(new RefreshEvent(this, r, "lodestar config " + r.key()));
    watchNewImports();
  }
}
