package io.lodestar.examples.payments;

import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerInitializedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * payments: registers itself in Lodestar (the starter does it, from spring.application.name and the
 * web server's port) and answers {@code GET /pay} with which instance and version served the call.
 * Nothing in this class knows about Lodestar.
 */
@SpringBootApplication
@RestController
public class PaymentsApplication {
  private final String version;
  private volatile int port;
  private volatile boolean failing;

  public PaymentsApplication(@Value("${lodestar.discovery.metadata.version:v1}") String version) {
    this.version = version;
  }

  public static void main(String[] args) {
    builder().run(args);
  }

  /** The application with its settings file, {@code payments.yaml} (named apart, so both apps can share a classpath in tests). */
  public static SpringApplicationBuilder builder() {
    return new SpringApplicationBuilder(PaymentsApplication.class).properties("spring.config.name=payments");
  }

  @EventListener
  void onStarted(WebServerInitializedEvent event) {
    port = event.getWebServer().getPort();
  }

  @GetMapping("/pay")
  ResponseEntity<Map<String, Object>> pay() {
    if (failing) {
      return ResponseEntity.status(503).body(Map.of("error", "payments instance " + port + " is failing"));
    }
    return ResponseEntity.ok(Map.of("port", port, "version", version));
  }

  /** Makes this instance answer 503 from now on (the breaker demo). */
  public void setFailing(boolean failing) {
    this.failing = failing;
  }
}
