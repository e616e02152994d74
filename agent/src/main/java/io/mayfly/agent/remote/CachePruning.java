package io.mayfly.agent.remote;

import io.mayfly.agent.Agent;
import io.mayfly.agent.Instance;
import io.mayfly.agent.artifacts.ArtifactCache;
import io.mayfly.wire.AgentViews;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Drops cached artifacts that neither the desired state nor any instance here needs any more. Run only on the
 * converging thread, the only one that fetches, so that no download is pulled away from under a deploy.
 */
final class CachePruning {
    private final ArtifactCache cache;
    private final Agent agent;
    private final Consumer<String> log;
    /** What the cache was last pruned down to: it is listed again only when that changes. */
    private Set<String> keptLast;

    CachePruning(ArtifactCache cache, Agent agent, Consumer<String> log) {
        this.cache = cache;
        this.agent = agent;
        this.log = log;
    }

    void prune(AgentViews.DesiredState state) {
        List<Path> running = new ArrayList<>();
        for (Instance i : agent.instances()) {
            if (i.request() == null) continue;
            Stream.of(i.request().artifact(), i.request().initrd())
                    .filter(Objects::nonNull)
                    .forEach(running::add);
        }
        Set<String> keep = needed(state, running);
        if (keep.equals(keptLast)) return;
        try {
            long freed = cache.retainOnly(keep);
            keptLast = keep;
            if (freed > 0)
                log.accept("removed " + (freed >> 10) + " KiB of cached artifacts nothing here needs any more");
        } catch (IOException e) {
            log.accept("could not prune the artifact cache: " + e.getMessage());
        }
    }

    /**
     * The cache entries (named by their SHA-256) to keep: every artifact assigned, and the files the instances here
     * were started from, assigned or not.
     */
    static Set<String> needed(AgentViews.DesiredState state, List<Path> running) {
        Set<String> keep = new HashSet<>();
        state.assignments().forEach(a -> a.artifacts().forEach(f -> keep.add(f.sha256())));
        running.forEach(p -> keep.add(p.getFileName().toString()));
        return keep;
    }
}
