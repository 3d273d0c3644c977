package io.lodestar.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lodestar.client.Instance;
import io.lodestar.client.LodestarClient;
import io.lodestar.client.RegistrationSpec;
import io.lodestar.server.LodestarServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * The web console in a real browser against a real server, with the real SDK on the other side.
 * One server and one browser for the class; each test uses its own services and configs. Every
 * test fails if the page logged a JavaScript error (or any failed load).
 */
class ConsoleBrowserTest {
  @TempDir static Path dir;
  static LodestarServer server;
  static Browser browser;
  static LodestarClient sdk;
  static String base;
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() throws IOException {
    browser = Browser.start();
    server = LodestarServer.builder().port(0).dataDir(dir).build().start();
    base = "http://127.0.0.1:" + server.port();
    sdk = LodestarClient.builder().servers("127.0.0.1:" + server.port()).build();
  }

  @AfterAll
  static void stop() {
    if (sdk != null) {
      sdk.close();
    }
    if (server != null) {
      server.close();
    }
    if (browser != null) {
      browser.close();
    }
  }

  @AfterEach
  void noJavaScriptErrors() {
    assertThat(browser.severeLogs()).as("browser console errors").isEmpty();
  }

  // ------------------------------------------------------------------ helpers

  static HttpResponse<String> rest(String method, String path, String body) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
          .build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static JsonNode json(HttpResponse<String> r) throws IOException {
    return JSON.readTree(r.body());
  }

  static void open(String path) {
    browser.driver.get(base + path);
  }

  static WebElement find(String css) {
    return await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
        .until(() -> browser.driver.findElement(By.cssSelector(css)), e -> e != null);
  }

  static void awaitText(String css, String text) {
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
        .untilAsserted(() -> assertThat(browser.driver.findElement(By.cssSelector(css)).getText()).contains(text));
  }

  /**
   * Types into the element {@code css} names, finding it again if a live update re-rendered it
   * (sections re-render on change events, which can land at any moment after a page load).
   */
  static void type(String css, String text) {
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
      WebElement field = browser.driver.findElement(By.cssSelector(css));
      field.clear();
      field.sendKeys(text);
      assertThat(field.getAttribute("value")).isEqualTo(text);
    });
  }

  /** The text of the element {@code css} names, read again if a live update replaced it meanwhile. */
  static String text(String css) {
    return await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
        .until(() -> browser.driver.findElement(By.cssSelector(css)).getText(), t -> t != null);
  }

  static void select(String css, String value) {
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
      new Select(browser.driver.findElement(By.cssSelector(css))).selectByValue(value);
      return true;
    });
  }

  /** Clicks the element {@code css} names; a stale reference means the click never happened, so retry. */
  static void click(String css) {
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
      browser.driver.findElement(By.cssSelector(css)).click();
      return true;
    });
  }

  /**
   * Clicks the element {@code css} names and accepts the confirm dialog it opens. A click can be
   * lost while the page settles (no dialog comes: seen once in CI under load), and any command
   * sent while a dialog is open dismisses it, so each round accepts a dialog if one is open and
   * clicks only when none is.
   */
  static void clickAndConfirm(String css) {
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> {
      try {
        browser.driver.switchTo().alert().accept();
        return true;
      } catch (NoAlertPresentException none) {
        browser.driver.findElement(By.cssSelector(css)).click();
        return false;
      }
    });
  }

  static RegistrationSpec spec(String svc, int port, String version) {
    return RegistrationSpec.builder().service(svc).host("10.9.0." + port).port(8080).ttlSeconds(60)
        .putMetadata("version", version).putMetadata("zone", "sh").build();
  }

  // ------------------------------------------------------------------ tests

  @Test
  void overviewShowsARegisteredService() {
    sdk.register(spec("checkout", 1, "1"));
    open("/");
    assertThat(browser.driver.getCurrentUrl()).endsWith("/ui/");
    awaitText("tr[data-service='default/checkout']", "checkout");
    assertThat(Integer.parseInt(text("[data-stat=services]"))).isGreaterThanOrEqualTo(1);
    assertThat(Integer.parseInt(text("[data-stat=clients]"))).isGreaterThanOrEqualTo(1);
    assertThat(text("[data-stat=leader]")).isEqualTo("127.0.0.1:" + server.port());
    browser.screenshot("overview");
  }

  @Test
  void aWeightEditReachesTheSdk() {
    sdk.register(spec("weights", 1, "1"));
    Instance i = sdk.register(spec("weights", 2, "1"));
    await().until(() -> sdk.getInstances("default", "weights").size() == 2);
    open("/ui/services/default/weights");
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
      WebElement weight = browser.driver.findElement(By.cssSelector("tr[data-instance='" + i.id() + "'] input[name=weight]"));
      assertThat(browser.driver.findElement(By.cssSelector("label[for='" + weight.getAttribute("id") + "']"))
          .getAttribute("textContent")).contains("Weight of " + i.id());
    });
    // A naming event can re-render the row between typing and submitting; then type again.
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
      type("tr[data-instance='" + i.id() + "'] input[name=weight]", "42");
      click("tr[data-instance='" + i.id() + "'] form button[type=submit]");
      await().atMost(Duration.ofSeconds(5)).ignoreExceptions().untilAsserted(() -> assertThat(browser.driver
          .findElement(By.cssSelector("#instance-result .notice")).getText()).contains("Weight of " + i.id() + " set to 42"));
    });
    await().untilAsserted(() -> assertThat(sdk.getInstances("default", "weights"))
        .filteredOn(x -> x.id().equals(i.id())).singleElement()
        .satisfies(x -> assertThat(x.weight()).isEqualTo(42)));
    browser.screenshot("service");
    // the operator's weight is marked as such, and can be handed back to what the instance registered
    String row = "tr[data-instance='" + i.id() + "'] ";
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> assertThat(
        browser.driver.findElement(By.cssSelector(row + "[data-registered-weight]")).getText())
        .isEqualTo("operator's; registered " + i.weight()));
    open("/");  // the overview counts the weights operators set
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> assertThat(
        Integer.parseInt(text("[data-stat=operator-weights]"))).isGreaterThanOrEqualTo(1));
    open("/ui/services/default/weights");
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
      click(row + "button[hx-post$='/restore-weight']");
      await().atMost(Duration.ofSeconds(5)).ignoreExceptions().untilAsserted(() -> assertThat(browser.driver
          .findElement(By.cssSelector("#instance-result .notice")).getText())
          .contains(i.id() + " carries the weight it registered with again"));
    });
    await().untilAsserted(() -> assertThat(sdk.getInstances("default", "weights"))
        .filteredOn(x -> x.id().equals(i.id())).singleElement()
        .satisfies(x -> assertThat(x.weight()).isEqualTo(i.weight())));
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
        browser.driver.findElements(By.cssSelector(row + "[data-registered-weight]"))).isEmpty());
  }

  @Test
  void isolateAndRestore() {
    Instance a = sdk.register(spec("isolation", 1, "1"));
    sdk.register(spec("isolation", 2, "1"));
    await().until(() -> sdk.getHealthyInstances("default", "isolation").size() == 2);
    open("/ui/services/default/isolation");
    click("tr[data-instance='" + a.id() + "'] button[hx-post$='/isolate']");
    awaitText("tr[data-instance='" + a.id() + "']", "isolated");
    await().untilAsserted(() -> assertThat(sdk.getHealthyInstances("default", "isolation"))
        .extracting(Instance::id).doesNotContain(a.id()).hasSize(1));
    assertThat(sdk.getInstances("default", "isolation")).hasSize(2);  // still registered
    click("tr[data-instance='" + a.id() + "'] button[hx-post$='/restore']");
    awaitText("#instance-result .notice", "back in discovery");
    await().until(() -> sdk.getHealthyInstances("default", "isolation").size() == 2);
  }

  @Test
  void deregisterAsksFirst() {
    Instance a = sdk.register(spec("leaving", 1, "1"));
    open("/ui/services/default/leaving");
    clickAndConfirm("tr[data-instance='" + a.id() + "'] button.danger");
    awaitText("#instance-result .notice", "was deregistered");
    await().until(() -> sdk.getInstances("default", "leaving").isEmpty());
  }

  @Test
  void configEditConflictHistoryDiffAndRollback() throws IOException {
    String path = "/v1/namespaces/default/configs/orders/app.properties";
    assertThat(rest("PUT", path + "?comment=first", "pool.size=10\ntimeout.ms=500\n").statusCode()).isEqualTo(200);
    open("/ui/configs/default/orders/app.properties");
    type("#content", "pool.size=20\ntimeout.ms=500\n");
    type("#comment", "bigger pool");
    awaitText("#validation", "Valid properties");
    browser.screenshot("config-editor");
    click("#editor button[type=submit]");
    awaitText("#publish-result", "Published version 2");
    assertThat(rest("GET", path, null).body()).isEqualTo("pool.size=20\ntimeout.ms=500\n");

    // someone else publishes version 3 while this editor still holds version 2
    rest("PUT", path + "?comment=elsewhere", "pool.size=30\ntimeout.ms=900\n");
    type("#content", "pool.size=25\ntimeout.ms=500\n");
    click("#editor button[type=submit]");
    awaitText("#publish-result .conflict", "version 3 was published since you opened this config");
    assertThat(text("#publish-result pre.diff")).contains("-pool.size=30").contains("+pool.size=25");
    assertThat(rest("GET", path, null).body()).isEqualTo("pool.size=30\ntimeout.ms=900\n");  // nothing overwritten
    browser.screenshot("config-conflict", "#publish-result");

    // history: the diff between any two versions, then a rollback
    find("#history tr[data-version='3']");
    select("#diff-from", "1");
    select("#diff-to", "3");
    click("#history form button[type=submit]");
    awaitText("#diff pre.diff", "+timeout.ms=900");
    assertThat(text("#diff pre.diff")).contains("-pool.size=10").contains("+pool.size=30");
    clickAndConfirm("tr[data-version='1'] button");
    awaitText("#history-result .notice", "has the content of v1");
    HttpResponse<String> now = rest("GET", path, null);
    assertThat(now.body()).isEqualTo("pool.size=10\ntimeout.ms=500\n");
    assertThat(now.headers().firstValue("X-Lodestar-Config-Version")).hasValue("4");
  }

  @Test
  void aFormatErrorIsShownInlineAndNothingIsPublished() throws IOException {
    String path = "/v1/namespaces/default/configs/orders/routes.yaml";
    rest("PUT", path, "routes:\n  - a\n");
    open("/ui/configs/default/orders/routes.yaml");
    type("#content", "routes:\n  - a\n bad: [\n");
    awaitText("#validation .error", "line");
    assertThat(text("#validation .error")).contains("invalid yaml at line");
    browser.screenshot("config-format-error", "#content");
    click("#editor button[type=submit]");
    awaitText("#publish-result .error", "content");
    assertThat(text("#publish-result")).contains("Nothing was published");
    HttpResponse<String> r = rest("GET", path, null);
    assertThat(r.headers().firstValue("X-Lodestar-Config-Version")).hasValue("1");
  }

  @Test
  void aGrayReleaseIsPromoted() throws IOException {
    String path = "/v1/namespaces/default/configs/orders/flags.json";
    rest("PUT", path, "{\"newCheckout\": false}");
    // a reader labelled canary=true, so that the console can show who receives the candidate
    rest("GET", path + "?clientId=canary-1&labels=canary%3Dtrue", null);
    open("/ui/configs/default/orders/flags.json");
    type("#gray-content", "{\"newCheckout\": true}");
    type("#gray-labels", "canary=true");
    click("#gray form button[type=submit]");
    awaitText("#gray [data-gray=active]", "Version 2 is in gray release");
    assertThat(text("#gray")).contains("canary=true");
    rest("GET", path + "?clientId=canary-1&labels=canary%3Dtrue", null);
    rest("GET", path + "?clientId=other-1", null);
    browser.driver.navigate().refresh();
    awaitText("#gray table", "canary-1");
    browser.screenshot("config-gray", "#gray");
    clickAndConfirm("#gray button[hx-post$='/gray/promote']");
    awaitText("#gray-result .notice", "Promoted");
    JsonNode status = json(rest("GET", path + "/gray", null));
    assertThat(status.path("active").asBoolean()).isFalse();
    assertThat(status.path("releasedVersion").asLong()).isEqualTo(2);
    assertThat(rest("GET", path, null).body()).isEqualTo("{\"newCheckout\": true}");
  }

  @Test
  void aRuleEditWithAValidationErrorThenAValidOne() {
    sdk.register(spec("routed", 1, "1"));
    sdk.register(spec("routed", 2, "2"));
    open("/ui/services/default/routed/rules");
    type("#rule-body-route", "{\"rules\":[{\"name\":\"canary\",\"match\":{\"headers\":{\"x-user\":{\"regex\":\"([\"}}},"
        + "\"destinations\":[{\"subset\":{\"version\":\"2\"},\"weight\":10}]}]}");
    click("#rule-route button[type=submit]");
    awaitText("#rule-result-route .error", "rules[0].match.headers.x-user.regex");
    assertThat(text("#rule-result-route")).contains("Nothing was saved");
    type("#rule-body-route", "{\"rules\":[{\"name\":\"canary\",\"destinations\":["
        + "{\"subset\":{\"version\":\"1\"},\"weight\":90},{\"subset\":{\"version\":\"2\"},\"weight\":10}]}]}");
    click("#rule-route button[type=submit]");
    awaitText("#rule-result-route .notice", "Saved: route rule version 1");
    // what the rule does, recomputed live when the rule lands
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> {
      List<WebElement> shares = browser.driver.findElements(By.cssSelector("#route-explain td[data-share]"));
      assertThat(shares).extracting(e -> e.getAttribute("data-share")).containsExactly("90.0", "10.0");
    });
    browser.screenshot("rules", "#rule-route");
  }

  /** Open change feeds, as the server's own metric counts them. */
  static double eventStreams() {
    return rest("GET", "/metrics", null).body().lines().filter(l -> l.startsWith("lodestar_console_event_streams"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  @Test
  void aLiveUpdateAppearsWithoutAReload() {
    browser.driver.get("about:blank");
    await().atMost(Duration.ofSeconds(20)).until(() -> eventStreams() == 0);
    open("/ui/services");
    find("#service-rows");
    ((JavascriptExecutor) browser.driver).executeScript("window.lodestarNoReload = true;");
    await().atMost(Duration.ofSeconds(20)).until(() -> eventStreams() == 1);  // the page's feed is open
    rest("POST", "/v1/namespaces/default/services/live-arrival/instances", "{\"host\":\"10.8.0.1\",\"port\":80}");
    awaitText("tr[data-service='live-arrival']", "live-arrival");
    assertThat(((JavascriptExecutor) browser.driver).executeScript("return window.lodestarNoReload === true"))
        .isEqualTo(Boolean.TRUE);
    browser.screenshot("services");
  }

  @Test
  void searchFiltersTheServiceList() {
    rest("POST", "/v1/namespaces/default/services/search-alpha/instances", "{\"host\":\"10.8.1.1\",\"port\":80}");
    rest("POST", "/v1/namespaces/default/services/search-beta/instances", "{\"host\":\"10.8.1.2\",\"port\":80}");
    open("/ui/services");
    type("#q", "alpha");
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> assertThat(
        browser.driver.findElements(By.cssSelector("#service-rows tr[data-service]")))
        .extracting(e -> e.getAttribute("data-service")).containsExactly("search-alpha"));
  }

  @Test
  void clusterPageShowsMembersAndTakesASnapshot() {
    open("/ui/cluster");
    awaitText("#members", "leader");
    // a single node is every member: it runs at the level its version knows
    awaitText("#members [data-feature-level]", String.valueOf(io.lodestar.core.StateMachine.FEATURE_LEVEL));
    click("button[hx-post='/ui/cluster/snapshot']");
    awaitText("#action-result .notice", "Snapshot taken");
  }

  @Test
  void topologyPageDrawsTheCallGraphAndAnEdgesLatencyOverTime() throws IOException {
    Instance pay = sdk.register(RegistrationSpec.builder().service("topo-payments").host("10.7.0.1").port(80).build());
    try (io.lodestar.client.governance.Governor gov = io.lodestar.client.governance.Governor.builder(sdk)
        .callerService("topo-orders").build()) {
      io.lodestar.client.route.CallContext ctx = io.lodestar.client.route.CallContext.builder().method("/pay").build();
      for (int i = 0; i < 50; i++) {
        gov.report(pay, ctx, i < 10 ? io.lodestar.client.governance.ErrorKind.SERVER_ERROR : null, 3_000_000);
      }
      gov.flushCallStats();
    }
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(json(rest("GET", "/v1/namespaces/default/topology", null)).get("edges").toString())
            .contains("topo-payments"));

    open("/ui/topology");
    // the table: 20 % errors is red
    find("#edges tr[data-edge='topo-orders>topo-payments'] .badge.bad");
    // the graph: ECharts drew the edge (topology.js notes how many it drew)
    JavascriptExecutor js = (JavascriptExecutor) browser.driver;
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
        js.executeScript("var el = document.getElementById('topology-graph');"
            + "return el.querySelector('canvas') !== null && Number(el.dataset.edges) > 0;").equals(Boolean.TRUE));

    // a real click on the middle of the edge's line loads its latency over time
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> {
      @SuppressWarnings("unchecked")
      List<Number> at = (List<Number>) js.executeScript("""
          var el = document.getElementById('topology-graph');
          var chart = echarts.getInstanceByDom(el);
          var g = chart.getModel().getSeriesByIndex(0).getGraph();
          for (var i = 0; i < g.edges.length; i++) {
            var e = g.edges[i];
            if (e.node1.id.indexOf('topo-orders') >= 0 && e.node2.id.indexOf('topo-payments') >= 0) {
              var p = e.getLayout(), a = p[0], b = p[1], c = p[2] || [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
              return [0.25 * a[0] + 0.5 * c[0] + 0.25 * b[0] - el.clientWidth / 2,
                      0.25 * a[1] + 0.5 * c[1] + 0.25 * b[1] - el.clientHeight / 2];
            }
          }
          return null;""");
      new org.openqa.selenium.interactions.Actions(browser.driver)
          .moveToElement(browser.driver.findElement(By.id("topology-graph")), at.get(0).intValue(), at.get(1).intValue())
          .click().perform();
      assertThat(browser.driver.findElement(By.id("edge-title")).getText()).contains("topo-orders → topo-payments");
    });
    // its chart is drawn and its table has the 10 s slot: 50 calls, 10 errors
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
        js.executeScript("return document.querySelector('#latency-chart canvas') !== null").equals(Boolean.TRUE));
    awaitText("#edge-detail tbody", "50");
    // the table's own button does the same
    click("#edges tr[data-edge='topo-orders>topo-payments'] button");
    awaitText("#edge-title", "topo-orders → topo-payments");
  }
}
