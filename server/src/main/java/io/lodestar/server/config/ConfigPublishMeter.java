package io.lodestar.server.config;

import io.lodestar.core.config.ConfigKey;
import io.lodestar.core.config.ConfigListener;
import io.lodestar.core.config.ConfigView;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;

/**
 * Counts config versions as they are applied ({@code lodestar.config.publishes}): publishes, gray
 * candidates, rollbacks, promotions and aborts each create one. Counted where versions are applied,
 * so every node of a cluster counts every publish, whichever node accepted it. Add it after the
 * log is replayed, so that a restart does not count history again. Runs on the applying thread only.
 */
public final class ConfigPublishMeter implements ConfigListener {
  private final Counter publishes;
  private final Map<ConfigKey, Long> lastVersion = new HashMap<>();

  public ConfigPublishMeter(MeterRegistry meters) {
    this.publishes = Counter.builder("lodestar.config.publishes").description("config versions applied")
        .register(meters);
  }

  @Override
  public void onConfigChanged(ConfigView view) {
    Long last = lastVersion.put(view.key(), view.version());
    // A config first seen since start counts one version: a batch rarely holds two of one config.
    long added = last == null ? 1 : view.version() - last;
    if (added > 0) {
      publishes.increment(added);
    }
  }
}
