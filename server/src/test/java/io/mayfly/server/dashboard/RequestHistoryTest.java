package io.mayfly.server.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.mayfly.wire.AgentViews;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** The dashboard's request chart, from the totals agents' routers report (the embedded agent's like any other). */
class RequestHistoryTest {
    private static List<AgentViews.RequestTotals> web(long count, double totalMs) {
        return List.of(new AgentViews.RequestTotals("web", count, totalMs));
    }

    @Test
    void eachSampleIsTheRateAndMeanLatencySinceTheLastOneAndTheChartDrawsThem() {
        Map<String, List<AgentViews.RequestTotals>> reported = new ConcurrentHashMap<>(Map.of("local", web(0, 0)));
        try (RequestHistory history = new RequestHistory(() -> reported)) {
            history.sample(); // the first reading only sets the baseline
            assertThat(history.of("web")).isEmpty();

            reported.put("local", web(50, 100)); // 50 requests of 2 ms
            history.sample();
            reported.put("local", web(60, 180)); // then 10 of 8 ms
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
            assertThat(DashboardPages.chart("web", points.subList(0, 1)))
                    .doesNotContain("<svg")
                    .contains("No request figures yet");
        }
    }

    @Test
    void onlyTheLastPointsAreKept() {
        try (RequestHistory history = new RequestHistory(() -> Map.of("local", web(0, 0)))) {
            for (int i = 0; i < RequestHistory.POINTS + 10; i++) history.sample();
            assertThat(history.of("web")).hasSize(RequestHistory.POINTS);
        }
    }

    @Test
    void theTotalsOfEveryAgentServingAnAppAddUpAndAnAgentRestartCountsFromZero() {
        Map<String, List<AgentViews.RequestTotals>> reported = new ConcurrentHashMap<>();
        reported.put("local", web(0, 0));
        reported.put(
                "host-a",
                List.of(new AgentViews.RequestTotals("web", 100, 400), new AgentViews.RequestTotals("api", 7, 7)));
        try (RequestHistory history = new RequestHistory(() -> reported)) {
            history.sample();
            assertThat(history.of("web")).isEmpty();

            reported.put("local", web(10, 100)); // 10 on the embedded agent's router, 100 ms
            reported.put(
                    "host-a",
                    List.of(new AgentViews.RequestTotals("web", 130, 490), new AgentViews.RequestTotals("api", 7, 7)));
            history.sample();
            double seconds = RequestHistory.STEP.toMillis() / 1000.0;
            RequestHistory.Point both = history.of("web").getLast();
            assertThat(both.perSecond()).isCloseTo(40 / seconds, within(1e-9)); // 10 here + 30 on host-a
            assertThat(both.meanMs()).isCloseTo((100 + 90) / 40.0, within(1e-6));
            assertThat(history.of("api").getLast().perSecond()).isZero();

            // host-a restarted: its totals start again from zero, and count as what it served since.
            reported.put("host-a", web(5, 50));
            history.sample();
            assertThat(history.of("web").getLast().perSecond()).isCloseTo(5 / seconds, within(1e-9));
            assertThat(history.of("web").getLast().meanMs()).isCloseTo(10.0, within(1e-6));
        }
    }
}
