package io.lodestar.server.xds;

/** The four resource types of the LDS → RDS → CDS → EDS chain, by type URL. */
enum XdsType {
  LISTENER("type.googleapis.com/envoy.config.listener.v3.Listener", true),
  ROUTE("type.googleapis.com/envoy.config.route.v3.RouteConfiguration", false),
  CLUSTER("type.googleapis.com/envoy.config.cluster.v3.Cluster", true),
  ENDPOINT("type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", false);

  final String url;
  /**
   * State of the world: a Listener or Cluster missing from a response counts as deleted, so these
   * responses always carry every subscribed resource, and an empty first request means "all".
   */
  final boolean wholeState;

  XdsType(String url, boolean wholeState) {
    this.url = url;
    this.wholeState = wholeState;
  }

  static XdsType of(String url) {
    for (XdsType t : values()) {
      if (t.url.equals(url)) {
        return t;
      }
    }
    return null;
  }
}
