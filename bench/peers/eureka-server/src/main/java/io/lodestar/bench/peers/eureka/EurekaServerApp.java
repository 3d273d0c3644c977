package io.lodestar.bench.peers.eureka;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cloud.netflix.eureka.server.EnableEurekaServer;

/** A stock standalone Eureka server; the port comes from --server.port. */
@SpringBootApplication
@EnableEurekaServer
public class EurekaServerApp {
  public static void main(String[] args) {
    SpringApplication.run(EurekaServerApp.class, args);
  }
}
