package io.mayfly.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The build queue's claim: eight workers racing for twenty jobs take each exactly once, oldest first. */
class BuildJobsTest {
    @TempDir
    Path dir;

    Jdbi open() {
        return Database.sqlite(dir.resolve("m.db"));
    }

    @Test
    void workersRacingForJobsTakeEachExactlyOnce() throws Exception {
        Jdbi db = open();
        BuildJobs jobs = new BuildJobs(db);
        for (int i = 0; i < 20; i++) jobs.enqueue(String.format("job-%02d", i), "{\"n\":" + i + "}");

        List<Callable<List<String>>> workers = new ArrayList<>();
        for (int w = 0; w < 8; w++) {
            String worker = "worker-" + w;
            BuildJobs own = new BuildJobs(open()); // each worker through its own pool, as through separate servers
            workers.add(() -> {
                List<String> taken = new ArrayList<>();
                for (Optional<BuildJobs.Claimed> c; (c = own.claim(worker)).isPresent(); ) {
                    taken.add(c.get().id());
                    assertThat(own.claimedBy(c.get().id())).contains(worker);
                }
                return taken;
            });
        }
        List<String> all = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (Future<List<String>> f : pool.invokeAll(workers)) all.addAll(f.get());
        }
        assertThat(all).hasSize(20).doesNotHaveDuplicates();
        assertThat(jobs.claim("late")).isEmpty();
    }

    @Test
    void theOldestJobGoesFirstAndAnEndedJobIsNobodys() {
        BuildJobs jobs = new BuildJobs(open());
        jobs.enqueue("a", "{}");
        jobs.enqueue("b", "{}");
        assertThat(jobs.claim("w").orElseThrow().id()).isEqualTo("a");
        assertThat(jobs.end("a", "finished")).isTrue();
        assertThat(jobs.end("a", "finished")).isFalse();
        assertThat(jobs.claimedBy("a")).isEmpty();
        assertThat(jobs.claim("w").orElseThrow().id()).isEqualTo("b");
    }
}
