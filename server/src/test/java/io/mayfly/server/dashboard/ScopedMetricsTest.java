package io.mayfly.server.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ScopedMetricsTest {
    @Test
    void aTokenSeesTheSeriesOfTheAppsItMayReadAndOnlyAnAdminTheServerWideOnes() throws Exception {
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(metrics);
        for (String app : new String[] {"own", "other"}) {
            Timer.builder("mayfly.router.requests")
                    .tag("app", app)
                    .publishPercentileHistogram()
                    .register(metrics)
                    .record(Duration.ofMillis(3));
            Counter.builder("mayfly.restarts").tag("app", app).register(metrics).increment();
        }
        // A label value that would end the line and start another one, were the filter reading the text.
        Counter.builder("mayfly.restarts")
                .tag("app", "other\"} 1\nmayfly_restarts_total{app=\"own")
                .register(metrics)
                .increment();

        String own = ScopedMetrics.scrape(metrics.getPrometheusRegistry(), "own"::equals, false);
        assertThat(own)
                .contains(
                        "mayfly_router_requests_seconds_count{app=\"own\"} 1",
                        "mayfly_router_requests_seconds_bucket{app=\"own\"",
                        "mayfly_restarts_total{app=\"own\"} 1.0",
                        "# TYPE mayfly_restarts_total counter");
        assertThat(own).doesNotContain("app=\"other", "jvm_");
        assertThat(own.lines().filter(l -> l.startsWith("mayfly_restarts_total")))
                .hasSize(1);

        assertThat(ScopedMetrics.scrape(metrics.getPrometheusRegistry(), app -> false, false))
                .doesNotContain("mayfly_", "jvm_");
        String admin = ScopedMetrics.scrape(metrics.getPrometheusRegistry(), app -> true, true);
        assertThat(admin).contains("app=\"own\"", "app=\"other\"", "jvm_memory_used_bytes");
        assertThat(admin.lines().filter(l -> l.startsWith("# TYPE")).toList())
                .as("the families of the whole scrape")
                .isEqualTo(metrics.scrape()
                        .lines()
                        .filter(l -> l.startsWith("# TYPE"))
                        .toList());
    }
}
