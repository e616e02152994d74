package io.mayfly.server.release;

import io.mayfly.server.store.AppConfig;
import io.mayfly.server.store.Audit;
import io.mayfly.server.store.Builds;
import io.mayfly.server.store.Formation;
import io.mayfly.server.store.Releases;
import io.mayfly.server.target.BootArguments;
import io.mayfly.server.target.DeployTarget;
import io.mayfly.wire.Progress;
import io.mayfly.wire.StagedTest;
import io.mayfly.wire.manifest.Manifest;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns builds into releases and releases into running instances: a new release per deploy or rollback
 * (releases are never edited), one deploy per app at a time, and the outcome recorded on the release.
 * What runs the releases is a {@link DeployTarget} (today the agents, the server's embedded one included): this
 * records, the target makes a release live, health-gated, and says how it ended.
 */
public final class ReleaseService {
    private final Builds builds;
    private final Releases releases;
    private final Formation formation;
    private final AppLocks locks;
    private final AppLogs logs;
    private final AppConfig appConfig;
    private final Audit audit;
    private final String routerUrlTemplate;
    private final DeployTarget runner;

    /** @param routerUrlTemplate e.g. {@code http://%s.localhost:8080}, filled with the app's name: the embedded agent's router */
    public ReleaseService(
            DeployTarget target,
            Builds builds,
            Releases releases,
            Formation formation,
            AppLocks locks,
            AppLogs logs,
            AppConfig config,
            Audit audit,
            String routerUrlTemplate) {
        this.runner = target;
        this.audit = audit;
        this.builds = builds;
        this.releases = releases;
        this.formation = formation;
        this.locks = locks;
        this.logs = logs;
        this.appConfig = config;
        this.routerUrlTemplate = routerUrlTemplate;
    }

    public String url(String app) {
        String remote = runner.url(app);
        return remote != null ? remote : routerUrlTemplate.formatted(app);
    }

    /** The result of releasing: the release as recorded, and the reason if it failed. */
    public record Result(Releases.Release release, String failure) {
        public boolean ok() {
            return failure == null;
        }
    }

    /** Creates release vN for a build and deploys it. The caller holds the app's lock (see {@link #locked}). */
    public Result release(
            String app,
            Builds.Build build,
            Manifest manifest,
            String manifestText,
            String config,
            String description,
            StagedTest test,
            Progress progress)
            throws InterruptedException, DeployLocked {
        requireUnlocked(app);
        Releases.Release release = releases.create(app, build.number(), description, manifestText, manifest, config);
        audit.record(app, Actor.current(), "release", "v" + release.version() + ": " + description);
        logs.event(app, "release v" + release.version() + " created: " + description);
        String unsendable =
                BootArguments.tooLong(manifest.run().args(), appConfig.cipher().open(config));
        DeployTarget.Outcome outcome;
        try {
            outcome = unsendable != null
                    ? new DeployTarget.Outcome.Failed(unsendable, Map.of())
                    : runner.deploy(app, release.version(), manifest, test, progress);
        } catch (RuntimeException e) {
            outcome = new DeployTarget.Outcome.Failed("internal error: " + e, Map.of());
            org.slf4j.LoggerFactory.getLogger(ReleaseService.class)
                    .error("deploy of {} v{} failed", app, release.version(), e);
        }
        try {
            return recordOutcome(app, release, manifest, outcome);
        } finally {
            runner.settled(app, release.version()); // recorded: the app's agent runs the live release again
        }
    }

    private Result recordOutcome(
            String app, Releases.Release release, Manifest manifest, DeployTarget.Outcome outcome) {
        return switch (outcome) {
            case DeployTarget.Outcome.Live live -> {
                releases.markLive(app, release.version(), live.phases());
                appConfig.putSealed(app, release.config()); // a rollback brings its config back, as on Heroku
                logs.event(app, "release v" + release.version() + " is live");
                yield new Result(releases.find(app, release.version()).orElseThrow(), null);
            }
            case DeployTarget.Outcome.Failed failed -> {
                releases.markFailed(app, release.version(), failed.reason(), failed.phases());
                logs.event(app, "release v" + release.version() + " failed: " + failed.reason());
                yield new Result(releases.find(app, release.version()).orElseThrow(), failed.reason());
            }
        };
    }

    /**
     * The app is about to be deleted: returns what to call once it is, so that a remote agent running it stops it
     * (its placement goes with the app).
     */
    public Runnable forgetting(String app) {
        Runnable itsAgent = runner.forgetting(app);
        return () -> {
            itsAgent.run();
            runner.appsChanged();
        };
    }

    /** A new app: the embedded agent's router answers for it (503 until its first release). */
    public void created(String app) {
        runner.appsChanged();
    }

    /** The app's current config vars, sealed as a release stores them. */
    public String currentConfig(String app) {
        return appConfig.sealed(app);
    }

    public boolean sameConfig(String sealedA, String sealedB) {
        return appConfig.cipher().open(sealedA).equals(appConfig.cipher().open(sealedB));
    }

    /**
     * Sets (value) or unsets (null) config vars, or throws {@link AppConfig.Invalid} and changes nothing when the
     * change breaks a var's limits (see {@link AppConfig#check}). With a live release this makes a new release of the same build
     * with the new vars and deploys it; otherwise the vars wait for the first deploy.
     */
    public Optional<Result> setConfig(String app, Map<String, String> changes, Progress progress) throws Exception {
        return locked(app, progress, () -> {
            Map<String, String> vars = new java.util.TreeMap<>(appConfig.get(app));
            AppConfig.check(vars, changes);
            changes.forEach((k, v) -> {
                if (v == null) vars.remove(k);
                else vars.put(k, v);
            });
            String sealed = appConfig.cipher().seal(vars);
            Optional<Releases.Release> live = releases.live(app);
            String what = describeChange(changes);
            if (live.isEmpty()) {
                appConfig.putSealed(app, sealed);
                logs.event(app, what + " (no release yet: applies to the first deploy)");
                return Optional.<Result>empty();
            }
            Builds.Build build = builds.find(app, live.get().build()).orElseThrow();
            Result result = release(
                    app,
                    build,
                    parseStored(live.get()),
                    live.get().manifest(),
                    sealed,
                    what,
                    StagedTest.NONE,
                    progress);
            return Optional.of(result);
        });
    }

    /** "Set GREETING, PORT_X; unset OLD": names only, never values. */
    private static String describeChange(Map<String, String> changes) {
        List<String> set = changes.entrySet().stream()
                .filter(e -> e.getValue() != null)
                .map(Map.Entry::getKey)
                .sorted()
                .toList();
        List<String> unset = changes.entrySet().stream()
                .filter(e -> e.getValue() == null)
                .map(Map.Entry::getKey)
                .sorted()
                .toList();
        String out = set.isEmpty() ? "" : "Set " + String.join(", ", set);
        if (!unset.isEmpty()) out += (out.isEmpty() ? "Unset " : "; unset ") + String.join(", ", unset);
        return out;
    }

    /** Throws when someone locked the app's deploys (mayfly lock). */
    public void requireUnlocked(String app) throws DeployLocked {
        var lock = audit.lockOf(app);
        if (lock.isPresent()) {
            throw new DeployLocked("deploys of " + app + " are locked since "
                    + lock.get().at() + " by " + lock.get().actor() + ": "
                    + lock.get().reason() + "; unlock with: mayfly unlock -a " + app);
        }
    }

    /** Runs the work while no other deploy of the app runs. */
    public <T> T locked(String app, Progress progress, AppLocks.Locked<T> work) throws Exception {
        return locks.with(app, progress, work);
    }

    /**
     * Makes a new release from an older one's build, manifest and config: no rebuild. With no version given,
     * the target is the newest release before the live one that was ever live.
     */
    public Result rollback(String app, Integer version, Progress progress) throws Exception {
        return locked(app, progress, () -> {
            List<Releases.Release> all = releases.list(app);
            Releases.Release live = all.stream()
                    .filter(r -> r.status() == Releases.Status.live)
                    .findFirst()
                    .orElse(null);
            Releases.Release target;
            if (version != null) {
                target = all.stream()
                        .filter(r -> r.version() == version)
                        .findFirst()
                        .orElseThrow(() -> new IllegalArgumentException(
                                "app " + app + " has no release v" + version + "; see mayfly releases -a " + app));
            } else {
                int liveVersion = live == null ? Integer.MAX_VALUE : live.version();
                target = all.stream()
                        .filter(r -> r.version() < liveVersion && r.status() == Releases.Status.superseded)
                        .findFirst()
                        .orElseThrow(() ->
                                new IllegalArgumentException("app " + app + " has no earlier release to roll back to"));
            }
            Builds.Build build = builds.find(app, target.build()).orElseThrow();
            Manifest manifest = parseStored(target);
            return release(
                    app,
                    build,
                    manifest,
                    target.manifest(),
                    target.config(),
                    "Rollback to v" + target.version(),
                    StagedTest.NONE,
                    progress);
        });
    }

    /**
     * {@code ps:scale}: runs {@code instances} copies of the live release, starting (health-gated) or stopping
     * (drained) the difference; remembered for later deploys. Returns how many instances serve afterwards.
     */
    public int scale(String app, int instances, Progress progress) throws Exception {
        return locked(app, progress, () -> {
            Releases.Release live = releases.live(app)
                    .orElseThrow(() -> new IllegalArgumentException(app + " has no live release to scale; push first"));
            Optional<Integer> before = formation.instances(app);
            formation.set(app, instances);
            DeployTarget.Outcome outcome = runner.rescale(
                    app, live.version(), parseStored(live), progress); // its agent boots or drains the difference
            if (outcome instanceof DeployTarget.Outcome.Failed(String reason, var phases)) {
                before.ifPresentOrElse(n -> formation.set(app, n), () -> formation.clear(app));
                runner.appChanged(app);
                throw new IllegalStateException("could not scale " + app + " to " + instances + ": " + reason);
            }
            audit.record(app, Actor.current(), "scale", instances + " instance" + (instances == 1 ? "" : "s"));
            logs.event(app, "scaled to " + instances + " instance" + (instances == 1 ? "" : "s"));
            return instances;
        });
    }

    private static Manifest parseStored(Releases.Release release) {
        if (release.spec() == null) {
            throw new IllegalStateException(
                    "the stored manifest of " + release.app() + " v" + release.version() + " does not parse");
        }
        return release.spec();
    }
}
