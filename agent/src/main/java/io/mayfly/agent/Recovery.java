package io.mayfly.agent;

import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.reconcile.Readoption;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a restarted agent finds: the state files of the instances it ran and the routes it served. It re-adopts the
 * instances still running (without restarting them) and routes to them again.
 */
final class Recovery {
    private static final Logger log =
            LoggerFactory.getLogger(Agent.class); // its lines read as the agent's, as they always did

    private final Routes routes;
    private final InstanceDirs dirs;
    private final Map<String, Driver> drivers;
    private final Launcher launcher;
    private final InstanceTable table;
    private final Supervisor supervisor;

    Recovery(
            Routes routes,
            InstanceDirs dirs,
            Map<String, Driver> drivers,
            Launcher launcher,
            InstanceTable table,
            Supervisor supervisor) {
        this.routes = routes;
        this.dirs = dirs;
        this.drivers = drivers;
        this.launcher = launcher;
        this.table = table;
        this.supervisor = supervisor;
    }

    /** See {@link Agent#recover}. */
    void recover() throws IOException {
        synchronized (routes) {
            Map<String, List<String>> saved = routes.read();
            Set<String> routedIds = new HashSet<>();
            saved.values().forEach(routedIds::addAll);
            try (Stream<Path> stateDirs = Files.list(dirs.root())) {
                for (Path stateDir : (Iterable<Path>) stateDirs::iterator) {
                    adopt(stateDir, routedIds);
                }
            }
            saved.forEach((app, ids) -> {
                List<Instance> routed =
                        ids.stream().map(table::get).filter(Objects::nonNull).toList();
                routes.router()
                        .switchTo(app, routed.stream().map(Instance::backend).toList());
                routed.stream().filter(i -> i.request() != null).forEach(supervisor::supervise);
            });
            routes.save();
        }
    }

    /** Re-adopts the instance of {@code stateDir} if its process still runs; stops it if no route named it. */
    private void adopt(Path stateDir, Set<String> routedIds) {
        Path stateFile = stateDir.resolve(InstanceStateFile.NAME);
        if (!Files.exists(stateFile)) return;
        InstanceState state;
        try {
            state = InstanceStateFile.read(stateFile);
        } catch (IOException e) {
            log.warn("ignoring unreadable instance state {}: {}", stateFile, e.getMessage());
            return;
        }
        Driver driver = drivers.get(state.driver());
        Optional<InstanceHandle> handle = driver == null ? Optional.empty() : driver.recover(state);
        switch (Readoption.of(handle.isPresent(), routedIds.contains(state.id()))) {
            case FORGET -> {
                log.info("instance {} is gone; forgetting it", state.id());
                InstanceDirs.deleteQuietly(stateFile);
            }
            case STOP -> {
                log.info("stopping instance {}: it was started by a deploy that never switched to it", state.id());
                table.stop(launcher.adopt(stateDir, state, handle.get()));
            }
            case ADOPT -> {
                launcher.adopt(stateDir, state, handle.get());
                log.info("re-adopted instance {} (pid {})", state.id(), state.pid());
            }
        }
    }
}
