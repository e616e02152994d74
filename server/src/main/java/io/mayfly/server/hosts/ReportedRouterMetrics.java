package io.mayfly.server.hosts;

import io.mayfly.wire.AgentViews;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The routers' request timers on the server's {@code /metrics}, under the name each router gives them
 * ({@code mayfly.router.requests}, tag {@code app}): what the agents reported with their last heartbeats, summed over
 * the agents serving the app. The routers run in the agents' processes, the embedded one's included.
 */
final class ReportedRouterMetrics {
    /** The name the router's timers have ({@code io.mayfly.agent.router.Router.REQUESTS}). */
    static final String REQUESTS = "mayfly.router.requests";

    private final MeterRegistry registry;
    private final Supplier<Map<String, List<AgentViews.RequestTotals>>> totals;
    private final Set<String> bound = ConcurrentHashMap.newKeySet();

    ReportedRouterMetrics(MeterRegistry registry, Supplier<Map<String, List<AgentViews.RequestTotals>>> totals) {
        this.registry = registry;
        this.totals = totals;
    }

    /** Makes sure each app in {@code reported} has its timer; called with every heartbeat's totals. */
    void saw(List<AgentViews.RequestTotals> reported) {
        for (AgentViews.RequestTotals t : reported) {
            if (bound.add(t.app())) {
                String app = t.app();
                FunctionTimer.builder(
                                REQUESTS,
                                this,
                                m -> (long) m.sum(app, true),
                                m -> m.sum(app, false),
                                TimeUnit.MILLISECONDS)
                        .tag("app", app)
                        .description("requests the routers served for the app, as their agents reported them")
                        .register(registry);
            }
        }
    }

    private double sum(String app, boolean count) {
        double sum = 0;
        for (List<AgentViews.RequestTotals> agent : totals.get().values()) {
            for (AgentViews.RequestTotals t : agent) {
                if (t.app().equals(app)) sum += count ? t.count() : t.totalMs();
            }
        }
        return sum;
    }
}
