package io.lodestar.server.prometheus;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import io.lodestar.api.v1.HealthStatus;
import io.lodestar.api.v1.Instance;
import io.lodestar.core.Validation;
import io.lodestar.core.naming.Registry;
import io.lodestar.core.naming.ServiceView;
import io.lodestar.server.http.Json;
import io.lodestar.server.http.Routes;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Prometheus HTTP service discovery ({@code http_sd_configs}) over the registry: one target group
 * per instance, labelled with its service, namespace, id, health and metadata. Debian's Prometheus
 * is built without Consul SD; this works with any Prometheus since 2.28.
 */
public final class PrometheusSdService implements Routes.Owner {
  static final String PREFIX = "__meta_lodestar_";

  private final Registry registry;
  private final io.lodestar.server.auth.Authorizer authorizer;

  public PrometheusSdService(Registry registry, io.lodestar.server.auth.Authorizer authorizer) {
    this.registry = registry;
    this.authorizer = authorizer;
  }

  @Override
  public void bind(Routes routes) {
    routes.get("/v1/prometheus/sd", "targets",
        c -> targets(c.optional("ns"), c.optional("service"), c.optional("tag")));
  }

  public HttpResponse targets(Optional<String> ns, Optional<String> service, Optional<String> tag) {
    String namespace = ns.filter(s -> !s.isEmpty()).orElse(Registry.DEFAULT_NAMESPACE);
    authorizer.check(io.lodestar.server.auth.Authorizer.current(), io.lodestar.core.auth.Policy.Action.READ, namespace);
    registry.requireNamespace(namespace);
    List<ServiceView> views;
    if (service.isPresent() && !service.get().isEmpty()) {
      Validation.name("service", service.get());
      ServiceView v = registry.view(namespace, service.get());
      views = v == null ? List.of() : List.of(v);
    } else {
      views = registry.views(namespace);
    }
    ArrayNode out = Json.MAPPER.createArrayNode();
    for (ServiceView v : views) {
      // every service at each scrape: rendered one at a time, not kept with the views
      v.forEachInstance(i -> {
        if (tag.isPresent() && !tag.get().isEmpty() && !i.getTagsList().contains(tag.get())) {
          return;
        }
        ObjectNode group = out.addObject();
        String host = i.getHost().contains(":") && !i.getHost().startsWith("[") ? "[" + i.getHost() + "]" : i.getHost();
        group.putArray("targets").add(host + ":" + i.getPort());
        ObjectNode labels = group.putObject("labels");
        labels.put(PREFIX + "service", i.getService());
        labels.put(PREFIX + "namespace", i.getNamespace());
        labels.put(PREFIX + "instance_id", i.getId());
        labels.put(PREFIX + "health", i.getHealth() == HealthStatus.UNHEALTHY ? "unhealthy" : "healthy");
        if (i.getTagsCount() > 0) {
          // Consul SD's convention: the tags joined with commas, with a comma at each end
          labels.put(PREFIX + "tags", "," + String.join(",", i.getTagsList()) + ",");
        }
        new TreeMap<>(i.getMetadataMap()).forEach((k, val) -> labels.put(PREFIX + "metadata_" + labelName(k), val));
      });
    }
    return HttpResponse.of(HttpStatus.OK, MediaType.JSON_UTF_8, out.toString());
  }

  /** A metadata key as a label name: characters outside [a-zA-Z0-9_] become '_'. */
  static String labelName(String key) {
    StringBuilder b = new StringBuilder(key.length());
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      b.append((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ? c : '_');
    }
    return b.toString();
  }
}
