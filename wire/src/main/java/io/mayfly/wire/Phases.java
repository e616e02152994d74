package io.mayfly.wire;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/** How long each phase of a push or a deploy took, in the order the phases ran. */
public final class Phases {
    @FunctionalInterface
    public interface Step<T, E extends Exception> {
        T run() throws E;
    }

    private final Map<String, Long> millis = new LinkedHashMap<>();

    public <T, E extends Exception> T time(String phase, Step<T, E> step) throws E {
        long start = System.nanoTime();
        try {
            return step.run();
        } finally {
            record(phase, (System.nanoTime() - start) / 1_000_000);
        }
    }

    public void record(String phase, long ms) {
        millis.merge(phase, ms, Long::sum);
    }

    public long get(String phase) {
        return millis.getOrDefault(phase, 0L);
    }

    public Map<String, Long> asMap() {
        return new LinkedHashMap<>(millis);
    }

    /** "build 2.1 s, store 4 ms, boot 5 ms" */
    public String summary() {
        return millis.entrySet().stream()
                .map(e -> e.getKey() + " " + human(e.getValue()))
                .collect(Collectors.joining(", "));
    }

    public static String human(long ms) {
        return ms < 1000 ? ms + " ms" : String.format("%.1f s", ms / 1000.0);
    }
}
