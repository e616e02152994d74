package io.mayfly.server.dashboard;

import io.mayfly.agent.router.Router;
import io.mayfly.wire.AgentViews;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RequestHistoryTest {
    @Test
    void eachSampleIsTheRateAndMeanLatencySinceTheLastOneAndTheChartDrawsThem() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Timer web = Timer.builder(Router.REQUESTS).tag("app", "web").register(registry);
        try (RequestHistory history = new RequestHistory(registry)) {
            history.sample(); // the first reading only sets the baseline
            assertThat(history.of("web")).isEmpty();

            for (int i = 0; i < 50; i++) web.record(Duration.ofMillis(2));
            history.sample();
            for (int i = 0; i < 10; i++) web.record(Duration.ofMillis(8));
            history.sample();

            List<RequestHistory.Point> points = history.of("web");
            double seconds = RequestHistory.STEP.toMillis() / 1000.0;
            assertThat(points).hasSize(2);
            assertThat(points.get(0).perSecond()).isCloseTo(50 / seconds, within(1e-9));
            assertThat(points.get(0).meanMs()).isCloseTo(2.0, within(1e-6));
            assertThat(points.get(1).perSecond()).isCloseTo(10 / seconds, within(1e-9));
            assertThat(points.get(1).meanMs()).isCloseTo(8.0, within(1e-6));
            assertThat(history.of("other")).isEmpty();

            String chart = DashboardPages.chart("web", points);
            assertThat(chart).contains("<svg", "<polyline", "Now 2.0 requests/s, mean latency 8.00 ms");
            assertThat(DashboardPages.chart("web", points.subList(0, 1))).doesNotContain("<svg").contains("No request figures yet");
        }
    }

    @Test
    void onlyTheLastPointsAreKept() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Timer.builder(Router.REQUESTS).tag("app", "web").register(registry);
        try (RequestHistory history = new RequestHistory(registry)) {
            for (int i = 0; i < RequestHistory.POINTS + 10; i++) history.sample();
            assertThat(history.of("web")).hasSize(RequestHistory.POINTS);
        }
    }

    @Test
    void remoteAgentsTotalsAddToTheServersOwnAndAnAgentRestartCountsFromZero() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Timer web = Timer.builder(Router.REQUESTS).tag("app", "web").register(registry);
        java.util.Map<String, List<AgentViews.RequestTotals>> reported = new java.util.concurrent.ConcurrentHashMap<>();
        reported.put("host-a", List.of(new AgentViews.RequestTotals("web", 100, 400), new AgentViews.RequestTotals("api", 7, 7)));
        try (RequestHistory history = new RequestHistory(registry, () -> reported)) {
            history.sample();
            assertThat(history.of("web")).isEmpty();

            for (int i = 0; i < 10; i++) web.record(Duration.ofMillis(10)); // 10 on the server's router, 100 ms
            reported.put("host-a", List.of(new AgentViews.RequestTotals("web", 130, 490), new AgentViews.RequestTotals("api", 7, 7)));
            history.sample();
            double seconds = RequestHistory.STEP.toMillis() / 1000.0;
            RequestHistory.Point both = history.of("web").getLast();
            assertThat(both.perSecond()).isCloseTo(40 / seconds, within(1e-9)); // 10 here + 30 on host-a
            assertThat(both.meanMs()).isCloseTo((100 + 90) / 40.0, within(1e-6));
            assertThat(history.of("api").getLast().perSecond()).isZero();

            // host-a restarted: its totals start again from zero, and count as what it served since.
            reported.put("host-a", List.of(new AgentViews.RequestTotals("web", 5, 50)));
            history.sample();
            assertThat(history.of("web").getLast().perSecond()).isCloseTo(5 / seconds, within(1e-9));
            assertThat(history.of("web").getLast().meanMs()).isCloseTo(10.0, within(1e-6));
        }
    }
}
