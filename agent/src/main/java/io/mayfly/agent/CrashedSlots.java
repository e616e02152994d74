package io.mayfly.agent;

import io.mayfly.agent.router.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The crash-restart state: which instances the supervisor watches, and which crashed instances left a slot in their
 * app's route that waits for a restart. A deploy of the app makes those slots obsolete.
 */
final class CrashedSlots {
    /** Crashed instances whose slot waits for a restart; a deploy of the app clears them. */
    private final Set<String> awaitingRestart = ConcurrentHashMap.newKeySet();

    private final Set<String> supervised = ConcurrentHashMap.newKeySet();
    private final Routes routes;
    private final InstanceTable table;
    private final InstanceDirs dirs;

    CrashedSlots(Routes routes, InstanceTable table, InstanceDirs dirs) {
        this.routes = routes;
        this.table = table;
        this.dirs = dirs;
    }

    /** Marks the instance watched; false if it already was (then it needs no second watch). */
    boolean markWatched(Instance instance) {
        return supervised.add(instance.id());
    }

    void unmarkWatched(Instance instance) {
        supervised.remove(instance.id());
    }

    /** A deploy of the app replaced its instances: no crashed slot of it waits for a restart any more. */
    void deployed(String app) {
        awaitingRestart.removeIf(id -> id.startsWith(app + "-v"));
    }

    /**
     * Called when a supervised instance exited. If it was serving and not being stopped on purpose, it leaves the
     * route (so no request goes to a dead port) and its slot waits for a restart; returns whether that happened.
     */
    boolean crashed(Instance dead) {
        synchronized (routes) {
            supervised.remove(dead.id());
            if (table.stoppedOnPurpose(dead) || !routes.isRouted(dead)) return false;
            routes.leave(dead);
            table.remove(dead.id());
            dirs.deleteState(dead.id());
            awaitingRestart.add(dead.id());
            return true;
        }
    }

    boolean awaitingRestart(Instance dead) {
        return awaitingRestart.contains(dead.id());
    }

    /** Routes to the restarted instance in the crashed one's place, unless a deploy made the slot obsolete. */
    boolean replaceCrashed(Instance dead, Instance fresh) {
        synchronized (routes) {
            if (!awaitingRestart.remove(dead.id())) return false;
            List<Backend> backends = new ArrayList<>(routes.router().backends(dead.app()));
            backends.add(fresh.backend());
            routes.router().switchTo(dead.app(), backends);
            routes.save();
            supervised.add(fresh.id());
            return true;
        }
    }
}
