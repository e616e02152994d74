package io.mayfly.agent;

import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.health.HealthCheck;
import io.mayfly.agent.reconcile.RestartPolicy;
import io.mayfly.agent.router.Backend;
import io.mayfly.agent.router.Router;
import io.mayfly.wire.ConfigCipher;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The data plane of one host: starts instances with its drivers, checks their health, points the router at
 * them and retires them. What the router serves is persisted in {@code routes.json} so that a restarted agent
 * re-adopts its running instances and resumes routing to them without restarting them. The work is done by one
 * collaborator per concern, wired here; every change of the route holds the {@link Routes} monitor.
 */
public final class Agent implements AutoCloseable {
    private final Router router;
    private final Map<String, Driver> drivers = new LinkedHashMap<>();
    private final AgentEvents events;
    private final InstanceDirs dirs;
    private final InstanceTable table;
    private final Routes routes;
    private final Launcher launcher;
    private final CrashedSlots slots;
    private final LivenessWindows windows;
    private final Supervisor supervisor;
    private final IdleStops idleStops;
    private final Recovery recovery;

    public Agent(Path dir, Router router, List<Driver> drivers) throws IOException {
        this(dir, router, drivers, AgentEvents.NONE, RestartPolicy.DEFAULT);
    }

    /** Where this agent's events about each app go (the app's log on a server, standard output on a remote host). */
    public AgentEvents events() {
        return events;
    }

    public Agent(Path dir, Router router, List<Driver> drivers, AgentEvents events, RestartPolicy policy)
            throws IOException {
        this.router = router;
        drivers.forEach(d -> this.drivers.put(d.name(), d));
        this.events = events;
        // The router's word about an app's instances (one that did not answer in time) goes to the app's log too.
        router.reportEventsTo(events::event);
        this.dirs = new InstanceDirs(dir.resolve("instances"));
        this.table = new InstanceTable(dirs);
        this.routes = new Routes(router, dir.resolve("routes.json"));
        this.launcher = new Launcher(this.drivers, dirs, table, new ConfigCipher(dir.resolve("launch.key")));
        this.slots = new CrashedSlots(routes, table, dirs);
        // A rollback has the supervisor watch the instances serving again; the supervisor asks the windows first on
        // every exit.
        this.windows = new LivenessWindows(routes, table, slots, this::supervise, events);
        this.supervisor = new Supervisor(policy, events, slots, windows, launcher, table, routes);
        this.idleStops = new IdleStops(routes, table, events);
        this.recovery = new Recovery(routes, dirs, this.drivers, launcher, table, supervisor);
    }

    public Router router() {
        return router;
    }

    public Map<String, Driver> drivers() {
        return drivers;
    }

    /** Starts a new instance; it receives no traffic until {@link #switchTo} names it. */
    public Instance start(StartRequest req) throws DriverException {
        return launcher.start(req, 0, 0);
    }

    /**
     * Waits until the instance's guest passes its health check ({@code [health]}: HTTP, TCP or console), it exits, or
     * the health timeout passes. An unhealthy result says what happened and quotes the guest's last lines.
     */
    public HealthCheck.Result awaitHealthy(Instance instance) {
        return InstanceHealth.awaitHealthy(instance);
    }

    /** A switch that would route to an instance whose guest is not running; nothing was switched. */
    public static final class NotRunning extends RuntimeException {
        NotRunning(String message) {
            super(message);
        }
    }

    /**
     * Atomically routes the app to exactly these instances; returns the instances that were routed before. An instance
     * that is not running at this moment is never routed to, whatever its health check said: {@link NotRunning}. A
     * liveness window of the app ends (superseded) and the instances standing by in it are stopped.
     */
    public List<Instance> switchTo(String app, List<Instance> fresh) {
        synchronized (routes) {
            fresh.forEach(Agent::requireRunning);
            Standby standing = windows.supersede(app);
            if (standing != null) {
                standing.previous().stream()
                        .filter(i -> !fresh.contains(i))
                        .forEach(i -> Thread.ofVirtual().start(() -> stop(i)));
            }
            List<Backend> previous = routes.switchTo(app, fresh);
            slots.deployed(app);
            fresh.forEach(this::supervise);
            return previous.stream()
                    .map(b -> table.get(b.instanceId()))
                    .filter(i -> i != null && !fresh.contains(i))
                    .collect(Collectors.toCollection(ArrayList::new));
        }
    }

    private static void requireRunning(Instance i) {
        if (i.handle().isAlive()) return;
        List<String> last = InstanceHealth.lastLines(i);
        Integer code = i.handle().exited().getNow(null);
        throw new NotRunning("instance " + i.id() + " is no longer running"
                + (code == null || code < 0 ? "" : " (it exited with code " + code + ")")
                + ", so no traffic was switched to it"
                + (last.isEmpty() ? "" : "; its last lines: " + String.join(" | ", last)));
    }

    /**
     * Opens the liveness window after a switch to {@code fresh}: {@code previous} (already out of the route) keeps
     * running until {@code window} has passed with every fresh instance up and healthy; then it is stopped. A fresh
     * instance that exits or fails its health check three times in a row meanwhile moves the traffic back to the
     * previous instances at once (see {@link Standby}). {@code previousRelease} is what they run.
     */
    public Standby standBy(
            String app,
            int release,
            int previousRelease,
            List<Instance> previous,
            List<Instance> fresh,
            Duration window) {
        return windows.open(app, release, previousRelease, previous, fresh, window);
    }

    /** The app's liveness window, if it is in one. */
    public Optional<Standby> standby(String app) {
        return windows.of(app);
    }

    private void supervise(Instance instance) {
        supervisor.supervise(instance);
    }

    public boolean isRouted(Instance instance) {
        return routes.isRouted(instance);
    }

    /**
     * Scale to zero (Jitsu's "summon on demand"): the app's instances stop once idle for {@code idle}, and a request
     * that finds none is held by the router while {@code boot} starts one, for at most {@code holdTimeout}.
     */
    public void scaleToZero(String app, Duration idle, Duration holdTimeout, Supplier<CompletableFuture<?>> boot) {
        idleStops.scaleToZero(app, idle, holdTimeout, boot);
    }

    /** Ends scale to zero for the app: its instances keep running however idle. */
    public void keepRunning(String app) {
        idleStops.keepRunning(app);
    }

    /** The apps the router knows, with or without instances. */
    public List<String> routedApps() {
        return router.apps();
    }

    /** Makes the router know the app, so that until an instance serves it requests get a 503 rather than a 404. */
    public void declare(String app) {
        synchronized (routes) {
            if (!router.apps().contains(app)) {
                router.switchTo(app, List.of());
                routes.save();
            }
        }
    }

    /** Lets in-flight requests finish (bounded by drainTimeout), then stops the instance. */
    public void retire(Instance instance, Duration drainTimeout) {
        table.retire(instance, drainTimeout);
    }

    public void stop(Instance instance) {
        table.stop(instance);
    }

    /**
     * Stops every instance of the app, forgets its route and removes its instances' directories, console logs with
     * them: the app is gone, and one created later under the same name starts with none of its output.
     */
    public void removeApp(String app) {
        synchronized (routes) {
            router.remove(app);
            routes.save();
            windows.supersede(app);
            for (Instance i : instances(app)) {
                stop(i);
            }
            dirs.removeStopped(app, table.ids());
        }
    }

    public List<Instance> instances(String app) {
        return table.of(app);
    }

    /** Every instance on this host, of every app. */
    public List<Instance> instances() {
        return table.all();
    }

    public List<Instance> routed(String app) {
        return table.behind(router.backends(app));
    }

    public Optional<Path> consoleLog(String instanceId) {
        return dirs.consoleLog(instanceId);
    }

    /** All console logs of an app's instances, kept after the instances stop. */
    public List<Path> consoleLogs(String app) throws IOException {
        return dirs.consoleLogs(app);
    }

    /**
     * After a restart: re-adopts the instances whose processes are still running (without restarting them),
     * routes to those that were routed before, and stops the ones that were started but never routed (a deploy
     * interrupted before its switch).
     */
    public void recover() throws IOException {
        recovery.recover();
    }

    /** How long a closing agent's router lets its open connections finish (each closes after its next answer). */
    static final Duration DRAIN_ON_CLOSE = Duration.ofSeconds(10);

    /**
     * Stops routing, letting open connections finish their next request, but leaves instances running, so a
     * restarted agent (or one taking over now) can re-adopt them.
     */
    @Override
    public void close() {
        idleStops.close();
        // Its connections finish what they carry, so an agent taking over the port (or none) drops no request.
        router.drain(DRAIN_ON_CLOSE);
        table.all().forEach(i -> i.handle().detach());
    }
}
