package io.lodestar.spring;

import io.lodestar.client.LodestarClient;
import io.lodestar.client.LodestarClientException;
import io.lodestar.client.config.Config;
import java.util.List;
import org.apache.commons.logging.Log;
import org.springframework.boot.context.config.ConfigData;
import org.springframework.boot.context.config.ConfigDataLoader;
import org.springframework.boot.context.config.ConfigDataLoaderContext;
import org.springframework.boot.context.config.ConfigDataResourceNotFoundException;
import org.springframework.boot.logging.DeferredLogFactory;
import org.springframework.core.env.PropertySource;

/**
 * Loads one {@code lodestar:} import through the SDK: the first load of a config subscribes to it
 * (waiting for the server, or the failover cache), every later one reads the version the client
 * holds and, when it is the one already parsed, returns the same property sources. Gray releases
 * reach the application through the client's labels ({@code lodestar.discovery.metadata.*}).
 *
 * <p>A config that does not exist is "not found": Spring skips it for an {@code optional:} import and
 * fails the start otherwise. Asking for a missing config is an ordinary subscription on the server,
 * not a warning.
 */
public class LodestarConfigDataLoader implements ConfigDataLoader<LodestarConfigDataResource> {
  private final Log log;

  public LodestarConfigDataLoader(DeferredLogFactory logs) {
    this.log = logs.getLog(LodestarConfigDataLoader.class);
  }

  @Override
  public ConfigData load(ConfigDataLoaderContext context, LodestarConfigDataResource resource) {
    if (resource.isSkipped()) {
      return ConfigData.EMPTY;
    }
    LodestarClient client = context.getBootstrapContext().get(LodestarClient.class);
    LodestarConfigState state = context.getBootstrapContext().get(LodestarConfigState.class);
    Config config;
    try {
      config = client.configs().get(resource.namespace(), resource.group(), resource.name());
    } catch (LodestarClientException e) {
      List<PropertySource<?>> last = state.lastGood(resource);
      if (last != null) {
        log.warn("lodestar config " + resource.key() + ": " + e.getMessage() + "; keeping the version loaded before");
        return new ConfigData(last);
      }
      state.missing(resource);
      throw new ConfigDataResourceNotFoundException(resource, e);
    }
    if (!config.exists()) {
      List<PropertySource<?>> last = state.lastGood(resource);
      if (last != null && !resource.optional()) {
        log.warn("lodestar config " + resource.key() + " was deleted; keeping its last version (a required import)");
        return new ConfigData(last);
      }
      state.missing(resource);
      throw new ConfigDataResourceNotFoundException(resource);
    }
    List<PropertySource<?>> sources = state.sources(resource, config);
    log.debug("lodestar config " + resource.key() + " version " + config.version() + (config.gray() ? " (gray)" : ""));
    return new ConfigData(sources);
  }
}
