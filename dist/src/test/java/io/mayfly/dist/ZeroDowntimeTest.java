package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A client keeps requesting through the router while the app is redeployed five times and rolled back once. */
class ZeroDowntimeTest {
    private static final int MAX_REQUESTS = 200_000;

    @TempDir
    Path tmp;

    @Test
    void everyRequestIsServedAcrossFiveRedeploysAndARollback() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            mayfly.cli("apps:create", "steady");
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("steady"));
            MayflyProcess.setVersion(repo, "steady-0");
            assertThat(mayfly.push(repo, "steady", "v0").exit()).isZero();
            mayfly.awaitServing("steady", "steady-0", java.time.Duration.ofSeconds(10));

            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger requests = new AtomicInteger();
            List<String> failures = new CopyOnWriteArrayList<>();
            Map<String, Integer> versionsSeen = new ConcurrentHashMap<>();
            List<Thread> clients = java.util.stream.IntStream.range(0, 2)
                    .mapToObj(n -> Thread.ofPlatform().start(() -> {
                        while (running.get() && requests.incrementAndGet() < MAX_REQUESTS) {
                            try {
                                HttpResponse<String> r = mayfly.visit("steady", "/");
                                if (r.statusCode() != 200) failures.add(r.statusCode() + ": " + r.body());
                                var m = java.util.regex.Pattern.compile("steady-\\d")
                                        .matcher(r.body());
                                if (m.find()) versionsSeen.merge(m.group(), 1, Integer::sum);
                                else failures.add("unexpected body: " + r.body());
                            } catch (Exception e) {
                                failures.add(e.toString());
                            }
                        }
                    }))
                    .toList();

            for (int v = 1; v <= 5; v++) {
                MayflyProcess.setVersion(repo, "steady-" + v);
                MayflyProcess.Result push = mayfly.push(repo, "steady", "v" + v);
                assertThat(push.exit()).as(push.out()).isZero();
            }
            MayflyProcess.Result rollback = mayfly.cli("rollback", "-a", "steady");
            assertThat(rollback.exit()).as(rollback.out()).isZero();
            Thread.sleep(300);
            running.set(false);
            for (Thread t : clients) t.join();

            assertThat(failures).as("failed requests out of " + requests.get()).isEmpty();
            assertThat(versionsSeen.keySet()).contains("steady-0", "steady-5", "steady-4");
            assertThat(mayfly.visit("steady", "/").body()).contains("steady-4");
            assertThat(mayfly.releases("steady")).hasSize(7);
        }
    }
}
