package io.mayfly.agent;

import com.fasterxml.jackson.core.type.TypeReference;
import io.mayfly.agent.driver.ConsoleLines;
import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.InstanceHandle;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.InstanceState;
import io.mayfly.agent.driver.InstanceStateFile;
import io.mayfly.agent.driver.Ports;
import io.mayfly.agent.health.HealthCheck;
import io.mayfly.agent.router.Backend;
import io.mayfly.agent.router.Router;
import io.mayfly.wire.ConfigCipher;
import io.mayfly.agent.supervisor.RestartPolicy;
import io.mayfly.agent.supervisor.Supervisor;
import io.mayfly.wire.manifest.Manifest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The data plane of one host: starts instances with its drivers, checks their health, points the router at
 * them and retires them. What the router serves is persisted in {@code routes.json} so that a restarted agent
 * re-adopts its running instances and resumes routing to them without restarting them.
 */
public final class Agent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** How long an instance gets between SIGTERM (or its driver's equivalent) and being killed. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);
    private static final String ROUTES = "routes.json";
    private static final String LAUNCH = "launch.json";

    private final Path dir;
    private final Router router;
    private final Map<String, Driver> drivers = new LinkedHashMap<>();
    private final Map<String, Instance> instances = new ConcurrentHashMap<>();
    /** Instances being stopped on purpose: their exit is not a crash. */
    private final Set<String> stopping = ConcurrentHashMap.newKeySet();
    /** Crashed instances whose slot waits for a restart; a deploy of the app clears them. */
    private final Set<String> awaitingRestart = ConcurrentHashMap.newKeySet();
    private final Set<String> supervised = ConcurrentHashMap.newKeySet();
    private final Supervisor supervisor;
    private final ConfigCipher secrets;
    private final AgentEvents events;
    /** Apps that scale to zero, with how long an instance may sit idle before it is stopped. */
    private final Map<String, Duration> idleStop = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<?>> booting = new ConcurrentHashMap<>();
    /** Apps in their liveness window: the previous release stands by while the new one must stay up. */
    private final Map<String, Standby> standbys = new ConcurrentHashMap<>();
    private volatile Thread idleReaper;

    /**
     * What is kept beside each instance so that it can be restarted after a crash, even by a restarted agent. The
     * environment holds config vars, so it is stored only sealed; {@code request} is kept without it.
     */
    record Launch(StartRequest request, String sealedEnv, int restarts, int crashStreak) {}

    public Agent(Path dir, Router router, List<Driver> drivers) throws IOException {
        this(dir, router, drivers, AgentEvents.NONE, RestartPolicy.DEFAULT);
    }

    /** Where this agent's events about each app go (the app's log on a server, standard output on a remote host). */
    public AgentEvents events() { return events; }

    public Agent(Path dir, Router router, List<Driver> drivers, AgentEvents events, RestartPolicy policy) throws IOException {
        this.dir = dir;
        this.router = router;
        drivers.forEach(d -> this.drivers.put(d.name(), d));
        this.supervisor = new Supervisor(this, policy, events);
        this.events = events;
        // The router's word about an app's instances (one that did not answer in time) goes to the app's log too.
        router.reportEventsTo(events::event);
        Files.createDirectories(dir.resolve("instances"));
        this.secrets = new ConfigCipher(dir.resolve("launch.key"));
    }

    public Router router() { return router; }

    public Map<String, Driver> drivers() { return drivers; }

    /** Starts a new instance; it receives no traffic until {@link #switchTo} names it. */
    public Instance start(StartRequest req) throws DriverException {
        return start(req, 0, 0);
    }

    /** Starts the crashed instance's request again as a new instance; called by the supervisor. */
    public Instance restart(Instance crashed, int crashStreak) throws DriverException {
        return start(crashed.request(), crashed.restarts() + 1, crashStreak);
    }

    private Instance start(StartRequest req, int restarts, int crashStreak) throws DriverException {
        Driver driver = drivers.get(req.driver());
        if (driver == null) {
            throw new DriverException("no driver named '" + req.driver() + "' on this host; drivers here: " + String.join(", ", drivers.keySet()));
        }
        Driver.Availability availability = driver.availability();
        if (!availability.available()) {
            throw new DriverException("the " + req.driver() + " driver cannot run on this host: " + availability.detail());
        }
        String id = req.app() + "-v" + req.release() + "-" + HexFormat.of().formatHex(randomBytes(3));
        Path stateDir = dir.resolve("instances").resolve(id);
        int port = Ports.freeLoopbackPort();
        Map<String, String> placeholders = new HashMap<>(Map.of("port", Integer.toString(port), "app", req.app(), "release", Integer.toString(req.release())));
        placeholders.keySet().removeAll(driver.ownPlaceholders());
        List<String> args = req.args().stream().map(a -> fill(a, placeholders)).toList();
        Map<String, String> env = new LinkedHashMap<>(req.env());
        env.put("PORT", Integer.toString(port));
        try {
            Files.createDirectories(stateDir);
        } catch (IOException e) {
            throw new DriverException("cannot create the instance directory " + stateDir + ": " + e.getMessage(), e);
        }
        InstanceSpec spec = new InstanceSpec(id, req.app(), req.release(), req.artifact(), req.initrd(), args, env,
                req.memoryBytes(), port, req.guestPort(), stateDir.resolve("console.log"), stateDir, req.stopGrace(), Math.max(1, req.vcpus()), req.run().network());
        try {
            StartRequest withoutEnv = req.withEnv(Map.of());
            InstanceStateFile.writeJson(stateDir.resolve(LAUNCH), new Launch(withoutEnv, secrets.seal(req.env()), restarts, crashStreak));
        } catch (IOException e) {
            throw new DriverException("cannot record how instance " + id + " was started in " + stateDir + ": " + e.getMessage(), e);
        }
        long consoleFrom = sizeOf(spec.logFile());
        InstanceHandle handle = driver.start(spec);
        Instance instance = new Instance(id, req.app(), req.release(), driver.name(), handle, new Backend(id, "127.0.0.1", port),
                req, restarts, crashStreak, consoleFrom);
        instances.put(id, instance);
        handle.exited().thenRun(() -> log.info("instance {} exited", id));
        return instance;
    }

    /**
     * Waits until the instance's guest passes its health check ({@code [health]}: HTTP, TCP or console), it exits, or
     * the health timeout passes. An unhealthy result says what happened and quotes the guest's last lines.
     */
    public HealthCheck.Result awaitHealthy(Instance instance) {
        Manifest.Health h = instance.request().health();
        HealthCheck.Result result = HealthCheck.of(h, instance.handle().guest(), instance.handle().state().logFile(), instance.consoleFrom())
                .await(h.timeout(), instance.handle().exited());
        if (result instanceof HealthCheck.Unhealthy(String reason, Duration took, int attempts)) {
            List<String> last = lastLines(instance);
            return new HealthCheck.Unhealthy(reason + (last.isEmpty() ? "; it printed nothing" : "; its last lines: " + String.join(" | ", last)),
                    took, attempts);
        }
        return result;
    }

    /** The last lines the instance's guest printed since it started (Mayfly's own lines left out). */
    public List<String> lastLines(Instance instance) {
        return ConsoleLines.last(instance.handle().state().logFile(), instance.consoleFrom(), LAST_LINES);
    }

    /** How many of the guest's last lines an error quotes. */
    static final int LAST_LINES = 5;

    private static long sizeOf(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
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
    public synchronized List<Instance> switchTo(String app, List<Instance> fresh) {
        for (Instance i : fresh) {
            if (!i.handle().isAlive()) {
                List<String> last = lastLines(i);
                Integer code = i.handle().exited().getNow(null);
                throw new NotRunning("instance " + i.id() + " is no longer running" + (code == null || code < 0 ? "" : " (it exited with code " + code + ")")
                        + ", so no traffic was switched to it" + (last.isEmpty() ? "" : "; its last lines: " + String.join(" | ", last)));
            }
        }
        Standby standing = standbys.remove(app);
        if (standing != null) {
            standing.ending().complete(new Standby.Ending.Superseded());
            standing.previous().stream().filter(i -> !fresh.contains(i)).forEach(i -> Thread.ofVirtual().start(() -> stop(i)));
        }
        List<Backend> previous = router.switchTo(app, fresh.stream().map(Instance::backend).toList());
        // The release's own router limits ([run] request_timeout, response_timeout, idle_timeout), the defaults where it sets none.
        if (!fresh.isEmpty() && fresh.getFirst().request() != null) {
            Manifest.Run run = fresh.getFirst().request().run();
            router.limits(app, new io.mayfly.agent.router.RouteLimits(run.requestTimeout(), run.responseTimeout(), run.idleTimeout()));
        }
        persistRoutes();
        awaitingRestart.removeIf(id -> id.startsWith(app + "-v"));
        fresh.forEach(this::supervise);
        List<Instance> old = new ArrayList<>();
        for (Backend b : previous) {
            Instance i = instances.get(b.instanceId());
            if (i != null && !fresh.contains(i)) {
                old.add(i);
            }
        }
        return old;
    }

    /**
     * Opens the liveness window after a switch to {@code fresh}: {@code previous} (already out of the route) keeps
     * running until {@code window} has passed with every fresh instance up and healthy; then it is stopped. A fresh
     * instance that exits or fails its health check three times in a row meanwhile moves the traffic back to the
     * previous instances at once (see {@link Standby}). {@code previousRelease} is what they run.
     */
    public Standby standBy(String app, int release, int previousRelease, List<Instance> previous, List<Instance> fresh, Duration window) {
        Standby standby = Standby.of(app, release, previousRelease, previous, fresh, window);
        standbys.put(app, standby);
        Thread.ofVirtual().name("liveness-window-" + app).start(() -> watch(standby));
        return standby;
    }

    /** The app's liveness window, if it is in one. */
    public Optional<Standby> standby(String app) {
        return Optional.ofNullable(standbys.get(app));
    }

    /** Probes the fresh instances through the window; ends it when it has passed. Exits are seen by the supervisor. */
    private void watch(Standby standby) {
        Manifest.Health h = standby.fresh().getFirst().request().health();
        Duration every = h.interval().compareTo(Duration.ofMillis(250)) < 0 ? Duration.ofMillis(250)
                : h.interval().compareTo(Duration.ofSeconds(1)) > 0 ? Duration.ofSeconds(1) : h.interval();
        Map<String, Integer> failures = new HashMap<>();
        while (!standby.ended() && java.time.Instant.now().isBefore(standby.until())) {
            try {
                standby.ending().get(Math.min(every.toMillis(), Math.max(1, Duration.between(java.time.Instant.now(), standby.until()).toMillis())),
                        java.util.concurrent.TimeUnit.MILLISECONDS);
                return; // ended by a rollback or a later deploy
            } catch (java.util.concurrent.TimeoutException stillWatching) {
                // time for the next probe
            } catch (InterruptedException e) {
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                return;
            }
            if (h.console() != null) continue; // a console line proves a start only: exits alone are watched
            for (Instance i : standby.fresh()) {
                if (!i.handle().isAlive()) continue; // the supervisor reports it
                if (i.handle().guest().unreachable().isPresent()) continue; // nothing to probe: its exit is watched
                HealthCheck.Result r = HealthCheck.of(h, i.handle().guest(), i.handle().state().logFile(), i.consoleFrom())
                        .await(h.tryTimeout(), i.handle().exited());
                if (r instanceof HealthCheck.Unhealthy sick) {
                    int n = failures.merge(i.id(), 1, Integer::sum);
                    if (n >= Supervisor.LIVENESS_FAILURES) {
                        rollBack(standby, "instance " + i.id() + " failed its health check " + n + " times in a row: " + sick.reason());
                        return;
                    }
                } else {
                    failures.remove(i.id());
                }
            }
        }
        synchronized (this) {
            if (standbys.get(standby.app()) != standby || standby.ended()) return;
            standbys.remove(standby.app());
            standby.ending().complete(new Standby.Ending.Held());
        }
        standby.previous().forEach(this::stop); // drained: they had no new request for the whole window
    }

    /**
     * Moves the app's traffic back to the instances standing by, if {@code dead} is a fresh instance of a liveness
     * window: the supervisor calls it first when an instance exits. Returns whether it did.
     */
    public boolean rollBackIfWatched(Instance dead, String why) {
        Standby standby = standbys.get(dead.app());
        if (standby == null || !standby.fresh().contains(dead) || stoppedOnPurpose(dead)) return false;
        List<String> last = lastLines(dead);
        return rollBack(standby, "instance " + dead.id() + " " + why + (last.isEmpty() ? "" : "; its last lines: " + String.join(" | ", last)));
    }

    private boolean rollBack(Standby standby, String reason) {
        long began = System.nanoTime();
        List<Instance> serving;
        synchronized (this) {
            if (standbys.get(standby.app()) != standby || standby.ended()) return false;
            standbys.remove(standby.app());
            serving = standby.previous().stream().filter(i -> i.handle().isAlive()).toList();
            router.switchTo(standby.app(), serving.stream().map(Instance::backend).toList());
            persistRoutes();
            serving.forEach(this::supervise);
            standby.fresh().forEach(i -> supervised.remove(i.id()));
        }
        Duration switchBack = Duration.ofNanos(System.nanoTime() - began);
        Duration afterLive = Duration.between(standby.since(), java.time.Instant.now());
        standby.ending().complete(new Standby.Ending.RolledBack(reason, afterLive, switchBack, serving.size()));
        events.event(standby.app(), "v" + standby.release() + " failed " + Supervisor.human(afterLive) + " after going live: " + reason
                + (serving.isEmpty() ? "; nothing of v" + standby.previousRelease() + " stands by to take the traffic back"
                : "; traffic is back on v" + standby.previousRelease() + " (" + serving.size() + " instance" + (serving.size() == 1 ? "" : "s")
                + ", switched in " + switchBack.toMillis() + " ms)"));
        standby.fresh().forEach(i -> Thread.ofVirtual().start(() -> stop(i)));
        return true;
    }

    /** Whether the instance is being stopped, or was stopped, on purpose: then its exit is no crash. */
    private boolean stoppedOnPurpose(Instance instance) {
        return stopping.contains(instance.id()) || !instances.containsKey(instance.id());
    }

    private void supervise(Instance instance) {
        if (supervised.add(instance.id())) supervisor.watch(instance);
    }

    public boolean isRouted(Instance instance) {
        return router.backends(instance.app()).contains(instance.backend());
    }

    /**
     * Called when a supervised instance exited. If it was serving and not being stopped on purpose, it leaves the
     * route (so no request goes to a dead port) and its slot waits for a restart; returns whether that happened.
     */
    public synchronized boolean crashed(Instance dead) {
        supervised.remove(dead.id());
        if (stoppedOnPurpose(dead) || !isRouted(dead)) return false;
        List<Backend> rest = router.backends(dead.app()).stream().filter(b -> b != dead.backend()).toList();
        router.switchTo(dead.app(), rest);
        persistRoutes();
        instances.remove(dead.id());
        deleteQuietly(dir.resolve("instances").resolve(dead.id()).resolve(InstanceStateFile.NAME));
        awaitingRestart.add(dead.id());
        return true;
    }

    public boolean awaitingRestart(Instance dead) {
        return awaitingRestart.contains(dead.id());
    }

    /** Routes to the restarted instance in the crashed one's place, unless a deploy made the slot obsolete. */
    public synchronized boolean replaceCrashed(Instance dead, Instance fresh) {
        if (!awaitingRestart.remove(dead.id())) return false;
        List<Backend> backends = new ArrayList<>(router.backends(dead.app()));
        backends.add(fresh.backend());
        router.switchTo(dead.app(), backends);
        persistRoutes();
        supervised.add(fresh.id());
        return true;
    }

    /**
     * Scale to zero (Jitsu's "summon on demand"): the app's instances stop once idle for {@code idle}, and a request
     * that finds none is held by the router while {@code boot} starts one, for at most {@code holdTimeout}.
     */
    public void scaleToZero(String app, Duration idle, Duration holdTimeout, Supplier<CompletableFuture<?>> boot) {
        idleStop.put(app, idle);
        router.holdWhileBooting(app, a -> booting.computeIfAbsent(a, x -> {
            events.event(a, "a request arrived while nothing runs: booting an instance");
            CompletableFuture<?> f = boot.get();
            return f.whenComplete((ok, error) -> booting.remove(a));
        }), holdTimeout);
        startIdleReaper();
    }

    /** Ends scale to zero for the app: its instances keep running however idle. */
    public void keepRunning(String app) {
        idleStop.remove(app);
        router.holdWhileBooting(app, null, null);
    }

    private synchronized void startIdleReaper() {
        if (idleReaper != null) return;
        idleReaper = Thread.ofVirtual().name("idle-reaper").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    return;
                }
                idleStop.forEach(this::stopIdle);
            }
        });
    }

    private void stopIdle(String app, Duration idle) {
        for (Instance i : routed(app)) {
            Duration idleFor = i.backend().idleFor();
            if (idleFor.compareTo(idle) < 0) continue;
            synchronized (this) {
                if (!isRouted(i) || i.backend().idleFor().compareTo(idle) < 0) continue;
                router.switchTo(app, router.backends(app).stream().filter(b -> b != i.backend()).toList());
                persistRoutes();
            }
            events.event(app, "instance " + i.id() + " idle for " + idleFor.toSeconds() + " s: stopping it (scale to zero)");
            retire(i, Duration.ofSeconds(30));
        }
    }

    /** Makes the router know the app, so that until an instance serves it requests get a 503 rather than a 404. */
    /** The apps the router knows, with or without instances. */
    public List<String> routedApps() {
        return router.apps();
    }

    public synchronized void declare(String app) {
        if (!router.apps().contains(app)) {
            router.switchTo(app, List.of());
            persistRoutes();
        }
    }

    /** Lets in-flight requests finish (bounded by drainTimeout), then stops the instance. */
    public void retire(Instance instance, Duration drainTimeout) {
        instance.backend().drained(drainTimeout).join();
        stop(instance);
    }

    public void stop(Instance instance) {
        stopping.add(instance.id());
        try {
            instance.handle().stop(STOP_GRACE);
        } finally {
            // Gone from the instances before it leaves stopping: its exit, which a handle may see only after stop returned
            // (a Xen domain, an adopted process, both polled), is never taken for a crash.
            instances.remove(instance.id());
            stopping.remove(instance.id());
            deleteQuietly(dir.resolve("instances").resolve(instance.id()).resolve("state.json"));
            try {
                pruneStopped(dir.resolve("instances"), instance.app(), KEEP_STOPPED, instances.keySet());
            } catch (IOException e) {
                // best effort: tried again at the next stop
            }
        }
    }

    /** How many stopped instances of each app keep their directory (console log) for mayfly logs. */
    static final int KEEP_STOPPED = 10;

    /** Whether {@code dir} is the directory of an instance of {@code app}: {@code APP-vN-HEX}. */
    static boolean ofApp(Path dir, String app) {
        String name = dir.getFileName().toString();
        return name.startsWith(app + "-v") && name.substring(app.length()).matches("-v\\d+-[0-9a-f]+");
    }

    /**
     * Deletes the directories of the app's stopped instances (no state file, not in {@code live}) but the {@code keep}
     * newest, by when their console log was last written. Returns how many it deleted.
     */
    static int pruneStopped(Path instances, String app, int keep, java.util.Set<String> live) throws IOException {
        List<Path> stopped;
        try (Stream<Path> dirs = Files.list(instances)) {
            stopped = dirs.filter(d -> ofApp(d, app) && !live.contains(d.getFileName().toString())
                            && !Files.exists(d.resolve(InstanceStateFile.NAME)))
                    .sorted(java.util.Comparator.comparing(Agent::lastWritten).reversed()).toList();
        }
        int deleted = 0;
        for (Path d : stopped.subList(Math.min(keep, stopped.size()), stopped.size())) {
            try (Stream<Path> walk = Files.walk(d)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
            deleted++;
        }
        return deleted;
    }

    private static java.nio.file.attribute.FileTime lastWritten(Path instanceDir) {
        try {
            Path console = instanceDir.resolve("console.log");
            return Files.getLastModifiedTime(Files.exists(console) ? console : instanceDir);
        } catch (IOException e) {
            return java.nio.file.attribute.FileTime.fromMillis(0);
        }
    }

    /**
     * Stops every instance of the app, forgets its route and removes its instances' directories, console logs with
     * them: the app is gone, and one created later under the same name starts with none of its output.
     */
    public synchronized void removeApp(String app) {
        router.remove(app);
        persistRoutes();
        Standby standing = standbys.remove(app);
        if (standing != null) standing.ending().complete(new Standby.Ending.Superseded());
        for (Instance i : instances(app)) {
            stop(i);
        }
        try {
            pruneStopped(dir.resolve("instances"), app, 0, instances.keySet());
        } catch (IOException e) {
            log.warn("cannot remove the instance directories of {}: {}", app, e.toString());
        }
    }

    public List<Instance> instances(String app) {
        return instances.values().stream().filter(i -> i.app().equals(app)).toList();
    }

    /** Every instance on this host, of every app. */
    public List<Instance> instances() {
        return List.copyOf(instances.values());
    }

    public List<Instance> routed(String app) {
        return router.backends(app).stream().map(b -> instances.get(b.instanceId())).filter(i -> i != null && i.handle().isAlive()).toList();
    }

    public Optional<Path> consoleLog(String instanceId) {
        Path p = dir.resolve("instances").resolve(instanceId).resolve("console.log");
        return Files.exists(p) ? Optional.of(p) : Optional.empty();
    }

    /** All console logs of an app's instances, kept after the instances stop. */
    public List<Path> consoleLogs(String app) throws IOException {
        try (Stream<Path> dirs = Files.list(dir.resolve("instances"))) {
            return dirs.filter(d -> ofApp(d, app)).map(d -> d.resolve("console.log")).filter(Files::exists).sorted().toList();
        }
    }

    /**
     * After a restart: re-adopts the instances whose processes are still running (without restarting them),
     * routes to those that were routed before, and stops the ones that were started but never routed (a deploy
     * interrupted before its switch).
     */
    public synchronized void recover() throws IOException {
        Map<String, List<String>> routes = readRoutes();
        Map<String, String> routedTo = new HashMap<>();
        routes.forEach((app, ids) -> ids.forEach(id -> routedTo.put(id, app)));
        try (Stream<Path> dirs = Files.list(dir.resolve("instances"))) {
            for (Path stateDir : (Iterable<Path>) dirs::iterator) {
                Path stateFile = stateDir.resolve("state.json");
                if (!Files.exists(stateFile)) continue;
                InstanceState state;
                try {
                    state = InstanceStateFile.read(stateFile);
                } catch (IOException e) {
                    log.warn("ignoring unreadable instance state {}: {}", stateFile, e.getMessage());
                    continue;
                }
                Driver driver = drivers.get(state.driver());
                Optional<InstanceHandle> handle = driver == null ? Optional.empty() : driver.recover(state);
                if (handle.isEmpty()) {
                    log.info("instance {} is gone; forgetting it", state.id());
                    deleteQuietly(stateFile);
                    continue;
                }
                Launch launch = readLaunch(stateDir);
                Instance instance = new Instance(state.id(), state.app(), state.release(), state.driver(), handle.get(),
                        new Backend(state.id(), "127.0.0.1", state.port()), launch == null ? null : unseal(launch),
                        launch == null ? 0 : launch.restarts(), launch == null ? 0 : launch.crashStreak(), sizeOf(state.logFile()));
                instances.put(state.id(), instance);
                if (!routedTo.containsKey(state.id())) {
                    log.info("stopping instance {}: it was started by a deploy that never switched to it", state.id());
                    stop(instance);
                } else {
                    log.info("re-adopted instance {} (pid {})", state.id(), state.pid());
                }
            }
        }
        routes.forEach((app, ids) -> {
            List<Instance> routed = ids.stream().map(instances::get).filter(i -> i != null).toList();
            router.switchTo(app, routed.stream().map(Instance::backend).toList());
            routed.stream().filter(i -> i.request() != null).forEach(this::supervise);
        });
        persistRoutes();
    }

    private void persistRoutes() {
        Map<String, List<String>> routes = new LinkedHashMap<>();
        for (String app : router.apps()) {
            routes.put(app, router.backends(app).stream().map(Backend::instanceId).toList());
        }
        try {
            InstanceStateFile.writeJson(dir.resolve(ROUTES), routes);
        } catch (IOException e) {
            log.error("cannot persist routes to {}: {}", dir.resolve(ROUTES), e.toString());
        }
    }

    private Map<String, List<String>> readRoutes() throws IOException {
        Path file = dir.resolve(ROUTES);
        if (!Files.exists(file)) return Map.of();
        return InstanceStateFile.readJson(file, new TypeReference<LinkedHashMap<String, List<String>>>() {});
    }

    private StartRequest unseal(Launch launch) {
        return launch.request().withEnv(secrets.open(launch.sealedEnv()));
    }

    private static Launch readLaunch(Path stateDir) {
        Path file = stateDir.resolve(LAUNCH);
        try {
            Launch launch = Files.exists(file) ? InstanceStateFile.readJson(file, Launch.class) : null;
            if (launch != null && (launch.request() == null || launch.request().run() == null || launch.request().health() == null)) {
                log.warn("{} was written by an older agent without the release's settings; the instance will not be restarted if it crashes", file);
                return null;
            }
            return launch;
        } catch (IOException e) {
            log.warn("cannot read {}: {}; the instance will not be restarted if it crashes", file, e.getMessage());
            return null;
        }
    }

    static String fill(String template, Map<String, String> values) {
        String out = template;
        for (var e : values.entrySet()) {
            out = out.replace("{" + e.getKey() + "}", e.getValue());
        }
        return out;
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: a stale state file is ignored by recover() when its process is gone
        }
    }

    /** How long a closing agent's router lets its open connections finish (each closes after its next answer). */
    static final java.time.Duration DRAIN_ON_CLOSE = java.time.Duration.ofSeconds(10);

    /**
     * Stops routing, letting open connections finish their next request, but leaves instances running, so a
     * restarted agent (or one taking over now) can re-adopt them.
     */
    @Override
    public void close() {
        Thread reaper = idleReaper;
        if (reaper != null) reaper.interrupt();
        // Its connections finish what they carry, so an agent taking over the port (or none) drops no request.
        router.drain(DRAIN_ON_CLOSE);
        instances.values().forEach(i -> i.handle().detach());
    }
}
