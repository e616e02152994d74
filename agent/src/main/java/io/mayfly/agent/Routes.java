package io.mayfly.agent;

import com.fasterxml.jackson.core.type.TypeReference;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.router.Backend;
import io.mayfly.agent.router.RouteLimits;
import io.mayfly.agent.router.Router;
import io.mayfly.wire.manifest.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the router serves, and its copy in {@code routes.json} from which a restarted agent re-adopts its instances.
 * Every change of the route is made holding this object's monitor ({@code synchronized (routes)}), with whatever
 * goes with it, so that a switch, a crash leaving the route, a restart taking its slot and a rollback never interleave.
 */
final class Routes {
    private static final Logger log =
            LoggerFactory.getLogger(Agent.class); // its lines read as the agent's, as they always did

    private final Router router;
    private final Path file;

    Routes(Router router, Path file) {
        this.router = router;
        this.file = file;
    }

    Router router() {
        return router;
    }

    boolean isRouted(Instance instance) {
        return router.backends(instance.app()).contains(instance.backend());
    }

    /** Routes the app to exactly these instances, with their release's router limits; saves the route. Returns the backends routed before. */
    List<Backend> switchTo(String app, List<Instance> fresh) {
        List<Backend> previous =
                router.switchTo(app, fresh.stream().map(Instance::backend).toList());
        // The release's own router limits ([run] request_timeout, response_timeout, idle_timeout), the defaults where
        // it sets none.
        if (!fresh.isEmpty() && fresh.getFirst().request() != null) {
            Manifest.Run run = fresh.getFirst().request().run();
            router.limits(app, new RouteLimits(run.requestTimeout(), run.responseTimeout(), run.idleTimeout()));
        }
        save();
        return previous;
    }

    /** Takes the instance out of its app's route, the rest staying; saves the route. */
    void leave(Instance instance) {
        router.switchTo(
                instance.app(),
                router.backends(instance.app()).stream()
                        .filter(b -> b != instance.backend())
                        .toList());
        save();
    }

    /** Writes what the router serves to {@code routes.json}; an error is logged, the route in memory stands. */
    void save() {
        Map<String, List<String>> routes = new LinkedHashMap<>();
        for (String app : router.apps()) {
            routes.put(
                    app, router.backends(app).stream().map(Backend::instanceId).toList());
        }
        try {
            InstanceStateFile.writeJson(file, routes);
        } catch (IOException e) {
            log.error("cannot persist routes to {}: {}", file, e.toString());
        }
    }

    /** The saved routes: each app with the ids of the instances it was routed to. */
    Map<String, List<String>> read() throws IOException {
        if (!Files.exists(file)) return Map.of();
        return InstanceStateFile.readJson(file, new TypeReference<LinkedHashMap<String, List<String>>>() {});
    }
}
