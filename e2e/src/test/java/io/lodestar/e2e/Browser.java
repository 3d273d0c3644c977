package io.lodestar.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.logging.Level;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Debian's headless chromium driven by Debian's chromedriver through Selenium: an explicit driver
 * path, so Selenium Manager never downloads anything, and a fresh profile per browser.
 *
 * <p>Screenshots go to {@code target/console-screenshots/}, or to the repository's
 * {@code docs/console/} with {@code -Dconsole.screenshots=docs} (how the committed ones are made).
 */
final class Browser implements AutoCloseable {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  final ChromeDriver driver;
  private final Path profile;

  private Browser(ChromeDriver driver, Path profile) {
    this.driver = driver;
    this.profile = profile;
  }

  /** Starts one; skips the tests where chromium is missing, except under CI (.ci/run installs it). */
  static Browser start() throws IOException {
    boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    if (!present && System.getenv("CI") == null) {
      Assumptions.abort("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)");
    }
    assertThat(present).as("CI must install chromium and chromium-driver (.ci/run)").isTrue();
    Path profile = Files.createTempDirectory("lodestar-chromium-");
    ChromeOptions o = new ChromeOptions();
    o.setBinary(CHROMIUM.toFile());
    o.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--user-data-dir=" + profile, "--window-size=1280,860", "--hide-scrollbars");
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    o.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort().build();
    ChromeDriver d = new ChromeDriver(service, o);
    d.manage().window().setSize(new Dimension(1280, 860));
    return new Browser(d, profile);
  }

  /** Everything the page logged at SEVERE since the last call: JavaScript errors, failed loads. */
  List<String> severeLogs() {
    return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
        .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).map(LogEntry::toString).toList();
  }

  /** A screenshot with this element at the top of the window. */
  void screenshot(String name, String css) {
    driver.executeScript("document.querySelector(arguments[0]).scrollIntoView({block: 'start'}); window.scrollBy(0, -12);",
        css);
    screenshot(name);
  }

  void screenshot(String name) {
    Path dir = "docs".equals(System.getProperty("console.screenshots"))
        ? Path.of("..", "docs", "console") : Path.of("target", "console-screenshots");
    try {
      Files.createDirectories(dir);
      Files.write(dir.resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    driver.quit();
    try (var files = Files.walk(profile)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a leftover temp profile is harmless
    }
  }
}
