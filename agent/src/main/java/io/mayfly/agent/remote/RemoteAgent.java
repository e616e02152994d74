package io.mayfly.agent.remote;

import io.mayfly.agent.Agent;
import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.deploy.DeployOutcome;
import io.mayfly.agent.deploy.DeployStrategy;
import io.mayfly.wire.Phases;
import io.mayfly.wire.Progress;
import io.mayfly.wire.StagedTest;
import io.mayfly.agent.Instance;
import io.mayfly.agent.Standby;
import io.mayfly.agent.StartRequest;
import io.mayfly.agent.artifacts.ArtifactCache;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.ArtifactSignatures;
import io.mayfly.wire.Json;
import io.mayfly.wire.manifest.Manifest;
import io.mayfly.wire.manifest.ManifestException;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A host that runs what a Mayfly server assigns to it, holding only an agent token: it may read its own desired
 * state, download the blobs of what it must run, and report; nothing else. The desired state arrives as
 * server-sent events; while the stream is down the agent polls with back-off and keeps trying to reconnect.
 * Converging is the agent's own business: each assigned release is fetched (hash and signature checked), booted,
 * health-checked and switched to by the release's strategy ({@link DeployStrategy}: blue-green, rolling or
 * immediate, as on the server's own agent); apps no longer assigned are drained and stopped.
 * What it runs and how each deploy ended go to the server every heartbeat, and at once after a deploy.
 *
 * <p>The instances and the router live in this process, not in the server's, so a server that stops or crashes
 * changes nothing for the traffic; a restarted agent re-adopts its instances before it talks to anyone.
 */
public final class RemoteAgent implements AutoCloseable {

    private final ServerApi api;
    private final String name;
    private final Agent agent;
    private final ArtifactCache cache;
    private final Consumer<String> log;

    private final Enrolment enrolment;
    private final LatestDesired latest = new LatestDesired();
    private final DesiredFeed feed;
    private final Heartbeat heartbeat;
    /** The release of each app whose deploy failed, so that it is not retried in a loop until the server assigns another. */
    private final Map<String, Integer> failed = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    /** The assignment of each app scaled to zero here, as it was set up (its instance may be stopped). */
    private final Map<String, AgentViews.Assignment> sleeping = new ConcurrentHashMap<>();
    private static final Duration DEFAULT_IDLE_STOP = Duration.ofMinutes(5);

    /**
     * @param stream       false: poll only, every {@code pollInterval} (for hosts behind proxies that cut long responses)
     * @param pinnedKey    the fingerprint the server's signing key must have, or null to trust the key it gives
     */
    public RemoteAgent(URI server, String name, String token, Agent agent, Path dir, AgentViews.Registration registration,
                       String pinnedKey, boolean stream, Duration pollInterval, Consumer<String> log) throws IOException {
        this.api = new ServerApi(server, name, token);
        this.name = name;
        this.agent = agent;
        this.cache = new ArtifactCache(dir.resolve("cache"));
        this.log = log;
        this.enrolment = new Enrolment(api, registration, pinnedKey, log);
        this.feed = new DesiredFeed(api, enrolment, latest, stream, pollInterval, log, this::close);
        this.heartbeat = new Heartbeat(api, enrolment, agent, log);
    }

    /**
     * What {@code agent} registers with: the drivers its host can run, why each of the others cannot (for the error
     * of a deploy no agent can take), its memory for placement and its router's address.
     */
    public static AgentViews.Registration registration(Agent agent, long capacityMb, String router) {
        List<String> offered = new ArrayList<>();
        Map<String, String> unavailable = new java.util.TreeMap<>();
        agent.drivers().values().forEach(d -> {
            if (d.availability().available()) offered.add(d.name());
            else unavailable.put(d.name(), d.availability().detail());
        });
        return new AgentViews.Registration(offered.stream().sorted().toList(), capacityMb, router, unavailable,
                io.mayfly.wire.Version.CURRENT, AgentViews.PROTOCOL);
    }

    /** This host's memory, in MiB. */
    public static long hostMemoryMb() {
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os.getTotalMemorySize() >> 20;
    }

    /** Starts following the server: the desired-state feed, the converging loop and the heartbeat, each on its own thread. */
    public RemoteAgent start() {
        threads.add(Thread.ofVirtual().name("desired-" + name).start(feed));
        threads.add(Thread.ofVirtual().name("converge-" + name).start(this::converge));
        threads.add(Thread.ofVirtual().name("heartbeat-" + name).start(heartbeat));
        return this;
    }

    /**
     * Whether to send the instances' console output with each heartbeat (yes by default). The server's embedded
     * agent does not: the server reads its instances' logs where they are.
     */
    public RemoteAgent shipConsole(boolean ship) {
        heartbeat.shipConsole(ship);
        return this;
    }

    /**
     * Reports, with each heartbeat, what the router timing into {@code metrics} served per app (its
     * {@value io.mayfly.agent.router.Router#REQUESTS} timers): the server charts it on the dashboard.
     */
    public RemoteAgent reportRequests(io.micrometer.core.instrument.MeterRegistry metrics) {
        heartbeat.reportRequests(metrics);
        return this;
    }

    /**
     * An event of this host's agent about an app (give it to the {@link Agent} as its events, beside any local
     * output): sent with the next heartbeat, and shown by the server's {@code mayfly logs}.
     */
    public void event(String app, String line) {
        heartbeat.event(app, line);
    }

    /** Waits until the server has accepted this agent's registration; false if it has not within {@code bound}. */
    public boolean awaitRegistered(Duration bound) throws InterruptedException {
        return enrolment.awaitRegistered(bound);
    }

    // ---- converging ----

    private void converge() {
        AgentViews.DesiredState done = null;
        while (!Thread.currentThread().isInterrupted()) {
            AgentViews.DesiredState target = latest.get();
            try {
                if (target != null && LatestDesired.changes(done, target)) {
                    apply(target);
                    done = target;
                    continue; // something may have arrived meanwhile
                }
                latest.awaitNewer(target);
                if (done != null) prune(done); // on this thread, the only one that fetches: no download is pulled away
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.accept("converging failed: " + e + "; trying again");
                sleep1s();
            }
        }
    }

    /** What the cache was last pruned down to: it is listed again only when that changes. */
    private Set<String> keptLast;

    /** Drops cached artifacts that neither the desired state nor any instance here needs any more. */
    private void prune(AgentViews.DesiredState state) {
        Set<String> keep = new HashSet<>();
        state.assignments().forEach(a -> a.artifacts().forEach(f -> keep.add(f.sha256())));
        for (Instance i : agent.instances()) {
            if (i.request() == null) continue;
            Stream.of(i.request().artifact(), i.request().initrd()).filter(java.util.Objects::nonNull)
                    .forEach(p -> keep.add(p.getFileName().toString()));
        }
        if (keep.equals(keptLast)) return;
        try {
            long freed = cache.retainOnly(keep);
            keptLast = keep;
            if (freed > 0) log.accept("removed " + (freed >> 10) + " KiB of cached artifacts nothing here needs any more");
        } catch (IOException e) {
            log.accept("could not prune the artifact cache: " + e.getMessage());
        }
    }

    /** One pass: every assigned release running (health-gated), every other app drained and stopped. */
    void apply(AgentViews.DesiredState state) throws InterruptedException {
        Set<String> assigned = new HashSet<>();
        for (AgentViews.Assignment a : state.assignments()) {
            assigned.add(a.app());
            agent.declare(a.app());
            try {
                ensure(a);
            } catch (RuntimeException e) {
                // One app's assignment must never hold up every other app's.
                failed.put(a.app(), a.release());
                log.accept(a.app() + " v" + a.release() + " could not be applied: " + e + "; the other apps go on");
                report(new AgentViews.DeployReport(a.app(), a.release(), false, "the agent could not apply v" + a.release() + ": " + e,
                        Map.of(), List.of()));
            }
        }
        List<String> declared = state.declared() == null ? List.of() : state.declared();
        declared.forEach(agent::declare);
        Set<String> gone = new java.util.TreeSet<>();
        for (Instance instance : agent.instances()) {
            if (!assigned.contains(instance.app())) gone.add(instance.app());
        }
        // An app the router knows that is neither assigned nor declared any more (destroyed before its first release).
        for (String app : agent.routedApps()) {
            if (!assigned.contains(app) && !declared.contains(app)) gone.add(app);
        }
        for (String app : gone) {
            log.accept(app + " is no longer assigned here; draining and stopping its instances");
            List<Instance> old = agent.instances(app);
            agent.switchTo(app, List.of());
            old.forEach(i -> agent.retire(i, Duration.ofSeconds(10)));
            agent.keepRunning(app); // no idle stop, no held requests for an app that is gone
            agent.removeApp(app);
            failed.remove(app);
            sleeping.remove(app);
        }
    }

    private void ensure(AgentViews.Assignment a) throws InterruptedException {
        List<Instance> routed = agent.routed(a.app());
        Reconcile.Action action = Reconcile.next(a.release(), a.instances(), a.deploying(), new Reconcile.Observed(
                routed.stream().map(Instance::release).toList(), sleeping.containsKey(a.app()),
                steady(a).equals(sleeping.get(a.app())), failed.get(a.app())));
        if (action == Reconcile.Action.REPORT_LIVE) {
            report(new AgentViews.DeployReport(a.app(), a.release(), true, null, Map.of(), List.of()));
            return;
        }
        if (action == Reconcile.Action.WAIT_FOR_ANOTHER_RELEASE) return;
        Map<String, Long> phases = new LinkedHashMap<>();
        PushLines progress = new PushLines(api, a);
        DeployOutcome outcome;
        try {
            Manifest manifest = Manifest.parse("mayfly.toml of " + a.app() + " v" + a.release(), a.manifest());
            long began = System.nanoTime();
            StartRequest request = startRequest(a, manifest);
            phases.put("fetch", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
            if (action == Reconcile.Action.RESCALE) {
                rescale(a, manifest, request, routed.size(), progress); // ps:scale of the running release: only the difference
                return;
            }
            if (action == Reconcile.Action.SCALE_TO_ZERO) {
                scaling(a, manifest, request);
                report(new AgentViews.DeployReport(a.app(), a.release(), true, null, phases, progress.undelivered()));
                return;
            }
            StagedTest test = a.test() ? url -> stagedTest(a, URI.create(url).getPort(), manifest) : StagedTest.NONE;
            outcome = DeployStrategy.named(manifest.run().strategy(), agent)
                    .run(request, Math.max(1, a.instances()), manifest.run().drainTimeout(), test, progress);
            if (outcome instanceof DeployOutcome.Live) scaling(a, manifest, request);
        } catch (IOException | ManifestException e) {
            outcome = new DeployOutcome.Failed("cannot run v" + a.release() + ": " + e.getMessage(), Map.of());
        }
        phases.putAll(outcome.phases());
        switch (outcome) {
            case DeployOutcome.Live live -> {
                failed.remove(a.app());
                if (live.standby() != null) watchWindow(a, live.standby());
                if (!a.deploying()) {
                    // No push waits for this: the agent restarted without the live release, the app moved here, the
                    // release went live through another server sharing the database, or a deploy ended without it.
                    String took = Phases.human(outcome.phases().values().stream().mapToLong(Long::longValue).sum());
                    agent.events().event(a.app(), routed.isEmpty() ? "booted v" + a.release() + " again (nothing ran it here) in " + took
                            : "switched to v" + a.release() + ", the live release, in " + took);
                }
                log.accept(a.app() + " v" + a.release() + " is live here (" + agent.routed(a.app()).size() + " instance(s), " + phases + ")");
                report(new AgentViews.DeployReport(a.app(), a.release(), true, null, phases, progress.undelivered()));
            }
            case DeployOutcome.Failed f -> {
                failed.put(a.app(), a.release());
                String reason = f.reason() + (agent.routed(a.app()).isEmpty() ? "" : "; the running instances keep serving");
                log.accept(a.app() + " v" + a.release() + " not deployed: " + reason);
                report(new AgentViews.DeployReport(a.app(), a.release(), false, reason, phases, progress.undelivered()));
            }
        }
    }

    /**
     * A release that failed in its liveness window is not tried again here (until the server assigns another), and the
     * server hears which release the traffic went back to, so that it makes that one live again.
     */
    private void watchWindow(AgentViews.Assignment a, Standby standby) {
        standby.ending().thenAccept(ending -> {
            if (!(ending instanceof Standby.Ending.RolledBack(String reason, Duration afterLive, Duration switchBack, int serving))) return;
            failed.put(a.app(), a.release());
            log.accept(a.app() + " v" + a.release() + " rolled back to v" + standby.previousRelease() + ": " + reason);
            report(new AgentViews.DeployReport(a.app(), a.release(), false, "rolled back " + Phases.human(afterLive.toMillis())
                    + " after going live: " + reason, Map.of("rollback", switchBack.toMillis()), List.of(), standby.previousRelease()));
        });
    }

    /** The assignment as it stands when no deploy waits on it: what a sleeping app is compared with. */
    private static AgentViews.Assignment steady(AgentViews.Assignment a) {
        return new AgentViews.Assignment(a.app(), a.release(), a.manifest(), a.args(), a.env(), a.artifacts(), a.instances(), false, false);
    }

    /** Boots or stops the difference between what runs and the assignment's instances, as ps:scale does on the server. */
    private void rescale(AgentViews.Assignment a, Manifest manifest, StartRequest request, int before, PushLines progress)
            throws InterruptedException {
        Optional<String> failure = DeployStrategy.rescale(agent, request, a.instances(), manifest.run().drainTimeout(), progress);
        log.accept(a.app() + " v" + a.release() + (failure.isEmpty() ? " scaled from " + before + " to " + a.instances() + " instance(s)"
                : " could not scale from " + before + " to " + a.instances() + ": " + failure.get()));
        report(new AgentViews.DeployReport(a.app(), a.release(), failure.isEmpty(), failure.orElse(null), Map.of(), progress.undelivered()));
    }

    /** The release's staged test, which the server runs against the new instance's port here. */
    private String stagedTest(AgentViews.Assignment a, int port, Manifest manifest) throws InterruptedException {
        Duration bound = (manifest.test().timeout() == null ? Duration.ofMinutes(10) : manifest.test().timeout()).plusSeconds(30);
        return api.stagedTest(new AgentViews.StagedTestRequest(a.app(), a.release(), port), bound);
    }

    /**
     * {@code run.instances = 0}: the app's instance stops when idle ({@code run.idle_stop}, 5 min by default) and
     * the router holds the next request while this agent boots one, as the server's own agent does.
     */
    private void scaling(AgentViews.Assignment a, Manifest manifest, StartRequest request) {
        if (a.instances() > 0) {
            sleeping.remove(a.app());
            agent.keepRunning(a.app());
            return;
        }
        Duration idle = manifest.run().idleStop() != null ? manifest.run().idleStop() : DEFAULT_IDLE_STOP;
        sleeping.put(a.app(), steady(a));
        agent.scaleToZero(a.app(), idle, manifest.health().timeout().plusSeconds(5), () -> CompletableFuture.runAsync(() -> {
            try {
                DeployOutcome booted = DeployStrategy.named(manifest.run().strategy(), agent)
                        .run(request, 1, manifest.run().drainTimeout(), StagedTest.NONE, Progress.NONE);
                if (booted instanceof DeployOutcome.Failed f) {
                    agent.events().event(a.app(), "could not boot v" + a.release() + " on demand: " + f.reason());
                    throw new IllegalStateException(f.reason());
                }
                agent.events().event(a.app(), "booted v" + a.release() + " on demand in "
                        + Phases.human(booted.phases().values().stream().mapToLong(Long::longValue).sum()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while booting " + a.app(), e);
            }
        }, task -> Thread.ofVirtual().name("wake-" + a.app()).start(task)));
    }

    private StartRequest startRequest(AgentViews.Assignment a, Manifest manifest) throws IOException, InterruptedException {
        Map<String, Path> files = new HashMap<>();
        for (AgentViews.AssignedArtifact artifact : a.artifacts()) {
            files.put(artifact.name(), api.fetch(cache, artifact, enrolment.signingKey()));
        }
        if (a.artifacts().isEmpty()) throw new IOException("the server assigned " + a.app() + " v" + a.release() + " without its boot image");
        Path image = files.get(a.artifacts().getFirst().name()); // the server lists the boot image first
        Path initrd = manifest.build().initrd() == null ? null : files.get(manifest.build().initrd());
        return StartRequest.of(a.app(), a.release(), manifest, image, initrd, a.args(), a.env());
    }

    private void report(AgentViews.DeployReport deploy) {
        heartbeat.report(deploy);
    }

    private static void sleep1s() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops following the server; the instances and their routes stay for the next start to re-adopt. */
    @Override
    public void close() {
        threads.forEach(Thread::interrupt);
    }
}
