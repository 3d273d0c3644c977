package io.lodestar.server.console;

import com.google.common.escape.Escaper;
import com.google.common.html.HtmlEscapers;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

/**
 * The console's HTML output: escaping, the page shell, and responses. Every dynamic value goes
 * through {@link #h} (Guava's HTML escaper) or {@link #u} (a URL path segment): pages are built
 * from strings, so escaping at the point of use is what keeps a service name from becoming markup.
 */
final class Html {
  private static final Escaper ESCAPER = HtmlEscapers.htmlEscaper();
  static final String HTMX = "/ui/webjars/htmx.org/2.0.10/dist/htmx.min.js";
  static final String HTMX_SSE = "/ui/webjars/htmx-ext-sse/2.2.2/sse.js";

  private Html() {}

  /** Escapes text for an element body or a quoted attribute. */
  static String h(Object s) {
    return s == null ? "" : ESCAPER.escape(s.toString());
  }

  /** Encodes one URL path segment (names are validated, but ids may hold ':' and '.'). */
  static String u(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The navigation entries: path, label. */
  private static final String[][] NAV = {
      {"/ui/", "Overview"},
      {"/ui/services", "Services"},
      {"/ui/configs", "Configs"},
      {"/ui/topology", "Topology"},
      {"/ui/cluster", "Cluster"},
  };

  /**
   * A whole page. The body element connects to the change feed ({@code /ui/events}); regions
   * that show live state reload on its {@code sse:naming} / {@code sse:config} events.
   */
  static HttpResponse page(String title, String active, String body) {
    StringBuilder nav = new StringBuilder();
    for (String[] n : NAV) {
      nav.append("<a href=\"").append(n[0]).append('"')
          .append(n[0].equals(active) ? " aria-current=\"page\"" : "").append('>').append(n[1]).append("</a>");
    }
    String html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>%s · Lodestar</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/ui/assets/console.css">
        <script src="%s"></script>
        <script src="%s"></script>
        </head>
        <body hx-ext="sse" sse-connect="/ui/events">
        <header><a class="brand" href="/ui/">Lodestar</a><nav aria-label="Main">%s</nav></header>
        <main id="main">
        <h1>%s</h1>
        %s
        </main>
        </body>
        </html>
        """.formatted(h(title), HTMX, HTMX_SSE, nav, h(title), body);
    return ok(html);
  }

  /** A fragment for htmx to swap in. */
  static HttpResponse ok(String html) {
    return HttpResponse.of(ResponseHeaders.builder(HttpStatus.OK).contentType(MediaType.HTML_UTF_8)
        .add("Cache-Control", "no-store").build(), com.linecorp.armeria.common.HttpData.ofUtf8(html));
  }

  /** A status message for an {@code aria-live} region. */
  static String notice(String text) {
    return "<p class=\"notice\" role=\"status\">" + h(text) + "</p>";
  }

  /** An error, naming the field when the server named one. */
  static String error(ApiResult r) {
    String field = r.errorField();
    return "<p class=\"error\" role=\"alert\">" + (field == null ? "" : "<code>" + h(field) + "</code>: ")
        + h(r.errorMessage()) + "</p>";
  }

  static String time(long epochMs) {
    return epochMs == 0 ? "—" : h(Instant.ofEpochMilli(epochMs).toString().replace('T', ' ').replaceFirst("\\.\\d+Z$", "Z"));
  }

  static String ago(long nanos) {
    if (nanos < 0) {
      return "—";
    }
    Duration d = Duration.ofNanos(nanos);
    return d.toSeconds() < 1 ? "just now" : d.toSeconds() + " s ago";
  }
}
