package io.mayfly.agent.remote;

import io.mayfly.agent.Agent;
import io.mayfly.agent.Instance;
import io.mayfly.agent.Standby;
import io.mayfly.agent.StartRequest;
import io.mayfly.agent.artifacts.ArtifactCache;
import io.mayfly.agent.deploy.DeployOutcome;
import io.mayfly.agent.deploy.DeployStrategy;
import io.mayfly.agent.reconcile.Reconcile;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Phases;
import io.mayfly.wire.StagedTest;
import io.mayfly.wire.StoredManifest;
import io.mayfly.wire.manifest.Manifest;
import io.mayfly.wire.manifest.ManifestException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Brings one app to its assignment: observes the app here, asks {@link Reconcile#next} what to do, carries that out
 * (fetch, then deploy by the release's strategy, rescale, or scale to zero) and reports how it ended. It owns the
 * releases that failed here, so that none is retried in a loop until the server assigns another.
 */
final class AssignmentRunner {
    private final Agent agent;
    private final ServerApi api;
    private final ArtifactCache cache;
    private final Enrolment enrolment;
    private final ScaleToZero scaleToZero;
    private final Consumer<AgentViews.DeployReport> report;
    private final Consumer<String> log;
    /** The release of each app whose deploy failed, so that it is not retried in a loop until the server assigns another. */
    private final Map<String, Integer> failed = new ConcurrentHashMap<>();

    AssignmentRunner(
            Agent agent,
            ServerApi api,
            ArtifactCache cache,
            Enrolment enrolment,
            ScaleToZero scaleToZero,
            Consumer<AgentViews.DeployReport> report,
            Consumer<String> log) {
        this.agent = agent;
        this.api = api;
        this.cache = cache;
        this.enrolment = enrolment;
        this.scaleToZero = scaleToZero;
        this.report = report;
        this.log = log;
    }

    /** Brings {@code a}'s app to it; whatever goes wrong is reported as that app's failure, never thrown at the others. */
    void ensure(AgentViews.Assignment a) throws InterruptedException {
        try {
            carryOut(a);
        } catch (RuntimeException e) {
            // One app's assignment must never hold up every other app's.
            failed.put(a.app(), a.release());
            log.accept(a.app() + " v" + a.release() + " could not be applied: " + e + "; the other apps go on");
            report.accept(new AgentViews.DeployReport(
                    a.app(),
                    a.release(),
                    false,
                    "the agent could not apply v" + a.release() + ": " + e,
                    Map.of(),
                    List.of()));
        }
    }

    /** The app is no longer assigned here: a failure of it, or its sleep, is forgotten. */
    void forget(String app) {
        failed.remove(app);
        scaleToZero.forget(app);
    }

    private void carryOut(AgentViews.Assignment a) throws InterruptedException {
        List<Instance> routed = agent.routed(a.app());
        Reconcile.Action action = Reconcile.next(
                a.release(),
                a.instances(),
                a.deploying(),
                new Reconcile.Observed(
                        routed.stream().map(Instance::release).toList(), scaleToZero.asleep(a.app()),
                        scaleToZero.asleepAsAssigned(a), failed.get(a.app())));
        if (action == Reconcile.Action.REPORT_LIVE) {
            report.accept(new AgentViews.DeployReport(a.app(), a.release(), true, null, Map.of(), List.of()));
            return;
        }
        if (action == Reconcile.Action.WAIT_FOR_ANOTHER_RELEASE || action == Reconcile.Action.STEADY) return;
        Map<String, Long> phases = new LinkedHashMap<>();
        PushLines progress = new PushLines(api, a);
        DeployOutcome outcome;
        try {
            // As the server parsed it when the release was stored; the text only from another version's server.
            Optional<Manifest> stored = StoredManifest.read(a.spec());
            Manifest manifest = stored.isPresent()
                    ? stored.get()
                    : Manifest.parse("mayfly.toml of " + a.app() + " v" + a.release(), a.manifest());
            long began = System.nanoTime();
            StartRequest request = startRequest(a, manifest);
            phases.put("fetch", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
            if (action == Reconcile.Action.RESCALE) {
                rescale(
                        a,
                        manifest,
                        request,
                        routed.size(),
                        progress); // ps:scale of the running release: only the difference
                return;
            }
            if (action == Reconcile.Action.SCALE_TO_ZERO) {
                scaleToZero.follow(a, manifest, request);
                report.accept(
                        new AgentViews.DeployReport(a.app(), a.release(), true, null, phases, progress.undelivered()));
                return;
            }
            StagedTest test = a.test() ? url -> stagedTest(a, URI.create(url).getPort(), manifest) : StagedTest.NONE;
            outcome = DeployStrategy.named(manifest.run().strategy(), agent)
                    .run(request, Math.max(1, a.instances()), manifest.run().drainTimeout(), test, progress);
            if (outcome instanceof DeployOutcome.Live) scaleToZero.follow(a, manifest, request);
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
                    String took = Phases.human(outcome.phases().values().stream()
                            .mapToLong(Long::longValue)
                            .sum());
                    agent.events()
                            .event(
                                    a.app(),
                                    routed.isEmpty()
                                            ? "booted v" + a.release() + " again (nothing ran it here) in " + took
                                            : "switched to v" + a.release() + ", the live release, in " + took);
                }
                log.accept(a.app() + " v" + a.release() + " is live here ("
                        + agent.routed(a.app()).size() + " instance(s), " + phases + ")");
                report.accept(
                        new AgentViews.DeployReport(a.app(), a.release(), true, null, phases, progress.undelivered()));
            }
            case DeployOutcome.Failed f -> {
                failed.put(a.app(), a.release());
                String reason =
                        f.reason() + (agent.routed(a.app()).isEmpty() ? "" : "; the running instances keep serving");
                log.accept(a.app() + " v" + a.release() + " not deployed: " + reason);
                report.accept(new AgentViews.DeployReport(
                        a.app(), a.release(), false, reason, phases, progress.undelivered()));
            }
        }
    }

    /**
     * A release that failed in its liveness window is not tried again here (until the server assigns another), and the
     * server hears which release the traffic went back to, so that it makes that one live again.
     */
    private void watchWindow(AgentViews.Assignment a, Standby standby) {
        standby.ending().thenAccept(ending -> {
            if (!(ending
                    instanceof
                    Standby.Ending.RolledBack(String reason, Duration afterLive, Duration switchBack, int serving)))
                return;
            failed.put(a.app(), a.release());
            log.accept(a.app() + " v" + a.release() + " rolled back to v" + standby.previousRelease() + ": " + reason);
            report.accept(new AgentViews.DeployReport(
                    a.app(),
                    a.release(),
                    false,
                    "rolled back " + Phases.human(afterLive.toMillis()) + " after going live: " + reason,
                    Map.of("rollback", switchBack.toMillis()),
                    List.of(),
                    standby.previousRelease()));
        });
    }

    /** Boots or stops the difference between what runs and the assignment's instances, as ps:scale does on the server. */
    private void rescale(
            AgentViews.Assignment a, Manifest manifest, StartRequest request, int before, PushLines progress)
            throws InterruptedException {
        Optional<String> failure = DeployStrategy.rescale(
                agent, request, a.instances(), manifest.run().drainTimeout(), progress);
        log.accept(a.app() + " v" + a.release()
                + (failure.isEmpty()
                        ? " scaled from " + before + " to " + a.instances() + " instance(s)"
                        : " could not scale from " + before + " to " + a.instances() + ": " + failure.get()));
        report.accept(new AgentViews.DeployReport(
                a.app(), a.release(), failure.isEmpty(), failure.orElse(null), Map.of(), progress.undelivered()));
    }

    /** The release's staged test, which the server runs against the new instance's port here. */
    private String stagedTest(AgentViews.Assignment a, int port, Manifest manifest) throws InterruptedException {
        Duration bound = (manifest.test().timeout() == null
                        ? Duration.ofMinutes(10)
                        : manifest.test().timeout())
                .plusSeconds(30);
        return api.stagedTest(new AgentViews.StagedTestRequest(a.app(), a.release(), port), bound);
    }

    /** The release's files, fetched into the cache (hash and signature checked), and how to start it from them. */
    private StartRequest startRequest(AgentViews.Assignment a, Manifest manifest)
            throws IOException, InterruptedException {
        Map<String, Path> files = new HashMap<>();
        for (AgentViews.AssignedArtifact artifact : a.artifacts()) {
            files.put(artifact.name(), api.fetch(cache, artifact, enrolment.signingKey()));
        }
        if (a.artifacts().isEmpty())
            throw new IOException("the server assigned " + a.app() + " v" + a.release() + " without its boot image");
        Path image = files.get(a.artifacts().getFirst().name()); // the server lists the boot image first
        Path initrd = manifest.build().initrd() == null
                ? null
                : files.get(manifest.build().initrd());
        return StartRequest.of(a.app(), a.release(), manifest, image, initrd, a.args(), a.env());
    }
}
