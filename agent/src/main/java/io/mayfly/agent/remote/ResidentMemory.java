package io.mayfly.agent.remote;

import io.mayfly.agent.driver.ProcessStat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.LongUnaryOperator;

/**
 * Each instance's resident memory, for the dashboard: measured from {@code /proc} (the instance's process and its
 * descendants) at most once per {@link #EVERY_NANOS} per instance, since the heartbeat goes every second and the
 * measure walks the process table.
 */
final class ResidentMemory {
    static final long EVERY_NANOS = 10_000_000_000L;

    private record Measured(long at, long bytes) {}

    private final Map<String, Measured> last = new ConcurrentHashMap<>();
    private final LongUnaryOperator measure;
    private final LongSupplier nanoTime;

    ResidentMemory() {
        this(ProcessStat::residentBytes, System::nanoTime);
    }

    ResidentMemory(LongUnaryOperator measure, LongSupplier nanoTime) {
        this.measure = measure;
        this.nanoTime = nanoTime;
    }

    /** The instance's resident bytes as last measured, measured again when older than {@link #EVERY_NANOS}; 0 when not running. */
    long of(String instance, long pid, boolean alive) {
        if (!alive || pid <= 0) {
            last.remove(instance);
            return 0;
        }
        long now = nanoTime.getAsLong();
        Measured seen = last.get(instance);
        if (seen != null && now - seen.at() < EVERY_NANOS) return seen.bytes();
        long bytes = measure.applyAsLong(pid);
        last.put(instance, new Measured(now, bytes));
        return bytes;
    }

    /** Forgets the instances no longer there. */
    void keepOnly(Set<String> instances) {
        last.keySet().retainAll(instances);
    }
}
