package io.lodestar.server.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpObject;
import com.linecorp.armeria.common.HttpResponse;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

class ConsoleEventsTest {
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  @Test
  void theKeepAliveRunsOnlyWhileAFeedIsOpen() {
    ConsoleEvents events = new ConsoleEvents(scheduler, new SimpleMeterRegistry(), 20);
    assertThat(events.keepAliveScheduled()).as("no feed open: no timer").isFalse();

    Feed first = Feed.open(events.events());
    Feed second = Feed.open(events.events());
    assertThat(events.keepAliveScheduled()).isTrue();
    await().untilAsserted(() -> assertThat(first.text()).contains(":keep-alive"));
    await().untilAsserted(() -> assertThat(second.text()).contains(":keep-alive"));

    first.close();
    await().untilAsserted(() -> assertThat(events.streamCount()).isEqualTo(1));
    assertThat(events.keepAliveScheduled()).as("one feed still open").isTrue();
    int before = second.text().split(":keep-alive", -1).length;
    await().untilAsserted(() -> assertThat(second.text().split(":keep-alive", -1).length).isGreaterThan(before));

    second.close();
    await().untilAsserted(() -> assertThat(events.keepAliveScheduled()).isFalse());

    Feed third = Feed.open(events.events());
    assertThat(events.keepAliveScheduled()).as("a feed opened again starts it again").isTrue();
    await().untilAsserted(() -> assertThat(third.text()).contains(":keep-alive"));
    third.close();
    await().untilAsserted(() -> assertThat(events.keepAliveScheduled()).isFalse());
  }

  /** Reads a feed's bytes as text until closed. */
  private static final class Feed implements Subscriber<HttpObject> {
    private final List<String> parts = new CopyOnWriteArrayList<>();
    private final AtomicReference<Subscription> subscription = new AtomicReference<>();

    static Feed open(HttpResponse response) {
      Feed f = new Feed();
      response.subscribe(f);
      return f;
    }

    String text() {
      return String.join("", parts);
    }

    void close() {
      subscription.get().cancel();
    }

    @Override
    public void onSubscribe(Subscription s) {
      subscription.set(s);
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(HttpObject o) {
      if (o instanceof HttpData d) {
        parts.add(d.toStringUtf8());
      }
    }

    @Override
    public void onError(Throwable t) {
    }

    @Override
    public void onComplete() {
    }
  }
}
