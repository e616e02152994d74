package io.mayfly.server.dashboard;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.StateSetSnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * {@code /metrics} as one token may see it: the series of the apps it may read (by their {@code app} label), and the
 * server-wide ones (JVM, process: no {@code app} label) only for an admin. Filtered on Prometheus' own model of the
 * scrape, never on its text, so a label value cannot smuggle a series past the filter.
 */
final class ScopedMetrics {
    static final String APP_LABEL = "app";

    private ScopedMetrics() {}

    /** The Prometheus text format (0.0.4) of the series {@code mayRead} allows ({@code serverWide}: those without an app). */
    static String scrape(PrometheusRegistry registry, Predicate<String> mayRead, boolean serverWide)
            throws IOException {
        Predicate<Labels> shown = labels -> {
            String app = labels.get(APP_LABEL);
            return app == null ? serverWide : mayRead.test(app);
        };
        List<MetricSnapshot> kept = new ArrayList<>();
        for (MetricSnapshot metric : registry.scrape()) {
            MetricSnapshot only = only(metric, shown);
            if (only != null && !only.getDataPoints().isEmpty()) kept.add(only);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, new MetricSnapshots(kept));
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The metric with only the data points {@code shown} keeps; null for a kind of metric this does not know (never shown). */
    private static MetricSnapshot only(MetricSnapshot metric, Predicate<Labels> shown) {
        if (metric.getDataPoints().stream().allMatch(p -> shown.test(p.getLabels()))) return metric;
        return switch (metric) {
            case CounterSnapshot m -> new CounterSnapshot(m.getMetadata(), kept(m.getDataPoints(), shown));
            case GaugeSnapshot m -> new GaugeSnapshot(m.getMetadata(), kept(m.getDataPoints(), shown));
            case HistogramSnapshot m ->
                new HistogramSnapshot(m.isGaugeHistogram(), m.getMetadata(), kept(m.getDataPoints(), shown));
            case SummarySnapshot m -> new SummarySnapshot(m.getMetadata(), kept(m.getDataPoints(), shown));
            case InfoSnapshot m -> new InfoSnapshot(m.getMetadata(), kept(m.getDataPoints(), shown));
            case StateSetSnapshot m -> new StateSetSnapshot(m.getMetadata(), kept(m.getDataPoints(), shown));
            case UnknownSnapshot m -> new UnknownSnapshot(m.getMetadata(), kept(m.getDataPoints(), shown));
            default -> null;
        };
    }

    private static <P extends DataPointSnapshot> List<P> kept(List<P> points, Predicate<Labels> shown) {
        return points.stream().filter(p -> shown.test(p.getLabels())).toList();
    }
}
