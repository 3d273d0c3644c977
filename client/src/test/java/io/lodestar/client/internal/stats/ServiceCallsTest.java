package io.lodestar.client.internal.stats;

import static org.assertj.core.api.Assertions.assertThat;

import io.lodestar.api.v1.EdgeStats;
import io.lodestar.client.governance.ErrorKind;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class ServiceCallsTest {
  @Test
  void aWindowHoldsCountsErrorsByKindAndLatencies() throws Exception {
    ServiceCalls calls = new ServiceCalls("default", "payments");
    for (int i = 0; i < 100; i++) {
      calls.record("p1", "/pay", i < 3 ? ErrorKind.TIMEOUT : null, (i + 1) * 1_000_000L);  // 1..100 ms
    }
    calls.record("p1", "", ErrorKind.SERVER_ERROR, 5_000);
    List<EdgeStats> out = new ArrayList<>();
    calls.drain(out);
    assertThat(out).hasSize(2);
    EdgeStats pay = out.stream().filter(e -> e.getMethod().equals("/pay")).findFirst().orElseThrow();
    assertThat(pay.getNamespace()).isEqualTo("default");
    assertThat(pay.getService()).isEqualTo("payments");
    assertThat(pay.getInstanceId()).isEqualTo("p1");
    assertThat(pay.getCount()).isEqualTo(100);
    assertThat(pay.getErrorsMap()).containsExactly(java.util.Map.entry("timeout", 3L));
    Histogram h = Histogram.decodeFromCompressedByteBuffer(pay.getLatencyHistogram().asReadOnlyByteBuffer(), 0);
    assertThat(h.getTotalCount()).isEqualTo(100);
    assertThat(h.getValueAtPercentile(50) / 1000.0).isBetween(49.0, 51.0);  // ms, 2 significant digits

    // the next window starts empty: nothing is sent for a quiet edge
    out.clear();
    calls.drain(out);
    assertThat(out).isEmpty();
  }

  @Test
  void methodsPastTheCapShareOneEdge() {
    ServiceCalls calls = new ServiceCalls("default", "payments");
    for (int i = 0; i < ServiceCalls.MAX_METHODS + 10; i++) {
      calls.record("p1", "/m" + i, null, 1_000);
    }
    List<EdgeStats> out = new ArrayList<>();
    calls.drain(out);
    assertThat(out).hasSize(ServiceCalls.MAX_METHODS + 1);
    assertThat(out.stream().filter(e -> e.getMethod().equals(ServiceCalls.OTHER_METHOD)).findFirst().orElseThrow()
        .getCount()).isEqualTo(10);
  }

  @Test
  void recordingAllocatesNothing() {
    ServiceCalls calls = new ServiceCalls("default", "payments");
    String[] ids = {"a", "b", "c"};
    for (String id : ids) {
      calls.record(id, "/x", null, 1);
      calls.record(id, "/x", ErrorKind.ERROR, 1);
    }
    var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long tid = Thread.currentThread().getId();
    for (int i = 0; i < 50_000; i++) {  // warm up
      calls.record(ids[i % 3], "/x", (i & 7) == 0 ? ErrorKind.TIMEOUT : null, i * 1_000L);
    }
    long before = mx.getThreadAllocatedBytes(tid);
    for (int i = 0; i < 200_000; i++) {
      calls.record(ids[i % 3], "/x", (i & 7) == 0 ? ErrorKind.TIMEOUT : null, i * 1_000L);
    }
    long bytes = mx.getThreadAllocatedBytes(tid) - before;
    assertThat(bytes).as("bytes allocated by 200 000 records").isLessThan(1024);
  }
}
