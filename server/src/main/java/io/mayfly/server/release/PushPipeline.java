package io.mayfly.server.release;

import io.mayfly.server.build.BuildOutcome;
import io.mayfly.server.build.BuildRequest;
import io.mayfly.server.build.BuildResult;
import io.mayfly.server.build.Builder;
import io.mayfly.server.build.Checkout;
import io.mayfly.server.build.MirageRecipe;
import io.mayfly.server.build.SandboxedBuild;
import io.mayfly.server.git.RepositorySync;
import io.mayfly.server.store.Builds;
import io.mayfly.server.store.ContentAddressedBlobs;
import io.mayfly.server.store.DurableFiles;
import io.mayfly.server.store.Rebuilds;
import io.mayfly.server.store.Releases;
import io.mayfly.wire.Phases;
import io.mayfly.wire.Progress;
import io.mayfly.wire.StagedTest;
import io.mayfly.wire.manifest.Manifest;
import io.mayfly.wire.manifest.ManifestException;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a push to main does: read the manifest, build the commit in the sandbox, store the artifacts by
 * sha256, release the build, and make the commit the branch. Every step reports to the pusher; the first failure
 * ends the push with a reason and leaves the live release and the branch alone.
 */
public final class PushPipeline {
    private static final Logger log = LoggerFactory.getLogger(PushPipeline.class);
    private static final long MAX_BUILD_LOG = 10L * 1024 * 1024;

    private final Builds builds;
    private final Releases releases;
    private final ContentAddressedBlobs blobs;
    private final ReleaseService releaseService;
    private final Builder builder;
    private final SandboxedBuild sandbox;
    private final AppLogs logs;
    private final Path workRoot;
    private final Rebuilds rebuilds;

    public PushPipeline(
            Builds builds,
            Releases releases,
            ContentAddressedBlobs blobs,
            ReleaseService releaseService,
            SandboxedBuild sandbox,
            AppLogs logs,
            Path workRoot,
            Rebuilds rebuilds) {
        this(builds, releases, blobs, releaseService, sandbox, sandbox, logs, workRoot, rebuilds);
    }

    /**
     * @param builder runs the build commands (the sandbox here, or build workers when there are)
     * @param sandbox runs staged tests, which must reach the staged instance on this host
     */
    public PushPipeline(
            Builds builds,
            Releases releases,
            ContentAddressedBlobs blobs,
            ReleaseService releaseService,
            Builder builder,
            SandboxedBuild sandbox,
            AppLogs logs,
            Path workRoot,
            Rebuilds rebuilds) {
        this.builds = builds;
        this.releases = releases;
        this.blobs = blobs;
        this.releaseService = releaseService;
        this.builder = builder;
        this.sandbox = sandbox;
        this.logs = logs;
        this.workRoot = workRoot;
        this.rebuilds = rebuilds;
    }

    public sealed interface Outcome {
        record Live(int release) implements Outcome {}

        record Unchanged(int release) implements Outcome {}

        record Failed(String reason) implements Outcome {}
    }

    /**
     * The deploy branch a commit becomes once it deployed, and where that branch must still point for it to (the zero
     * id: nowhere yet, a first push; null: wherever, as a sync from a repository elsewhere makes its head main).
     */
    public record Branch(String ref, ObjectId expected) {
        public static Branch main() {
            return new Branch(RepositorySync.MAIN, null);
        }

        String name() {
            return Repository.shortenRefName(ref);
        }
    }

    /**
     * Builds and releases the commit, and moves {@code branch} to it when it is live (or unchanged), all while holding
     * the app's lock: so the branch, the live release and what the pusher is told agree however many pushes, syncs and
     * rollbacks arrive at once. A push whose branch moved while it waited (another push deployed first) fails at once.
     */
    public Outcome run(String app, Repository repo, ObjectId commitId, Branch branch, Progress given) {
        Progress progress = given.serialized(); // its agent's lines and staged test speak from other threads
        try {
            return releaseService.locked(app, progress, () -> {
                Optional<ObjectId> moved = RepositorySync.movedFrom(repo, branch.ref(), branch.expected());
                if (moved.isPresent())
                    return fail(progress, movedMessage(app, branch, moved.get(), "while this push waited for it"));
                Outcome outcome = build(app, repo, commitId, progress);
                if (outcome instanceof Outcome.Failed) return outcome;
                try {
                    RepositorySync.move(repo, branch.ref(), branch.expected(), commitId);
                } catch (IOException e) {
                    log.error("{} of {} could not be moved to {}", branch.ref(), app, commitId.name(), e);
                    return fail(
                            progress,
                            commitId.abbreviate(7).name() + " is live, but " + branch.name() + " of " + app
                                    + " could not be moved to it (" + e.getMessage()
                                    + "); push again to make them agree");
                }
                return outcome;
            });
        } catch (AppLocks.Busy busy) {
            progress.say(" !     " + busy.getMessage());
            return new Outcome.Failed(busy.getMessage());
        } catch (DeployLocked locked) {
            return fail(progress, locked.getMessage());
        } catch (Exception e) {
            log.error("push of {} {} failed", app, commitId.name(), e);
            progress.say(" !     internal error: " + e);
            return new Outcome.Failed("internal error: " + e.getMessage());
        }
    }

    private Outcome build(String app, Repository repo, ObjectId commitId, Progress progress) throws Exception {
        releaseService.requireUnlocked(app);
        Phases phases = new Phases();
        RevCommit commit;
        try (RevWalk walk = new RevWalk(repo)) {
            commit = walk.parseCommit(commitId);
        }
        String manifestText;
        Manifest manifest;
        try {
            manifestText = readManifest(repo, commit).orElse(null);
            if (manifestText == null) {
                return fail(
                        progress,
                        "no mayfly.toml at the root of commit "
                                + commit.abbreviate(7).name()
                                + "; add one with a [build] command and artifact (see examples/hello/mayfly.toml)");
            }
            manifest = Manifest.parse("mayfly.toml", manifestText);
        } catch (ManifestException e) {
            return fail(progress, e.getMessage());
        }
        Built built = buildCommit(app, repo, commit, manifestText, manifest, "git", phases, progress);
        if (built instanceof Built.Broken(String reason)) {
            return fail(progress, reason);
        }
        Built.Stored stored = (Built.Stored) built;
        int number = stored.number();
        Path work = stored.work();
        List<Builds.Artifact> artifacts = stored.artifacts();
        try {
            Builds.Artifact main = artifacts.get(0);
            Optional<Releases.Release> live = releases.live(app);
            String config = releaseService.currentConfig(app);
            if (live.isPresent()
                    && sameAsLive(app, live.get(), artifacts, manifest)
                    && releaseService.sameConfig(live.get().config(), config)) {
                progress.say("-----> No change: sha256:" + main.sha256().substring(0, 12)
                        + " with the same settings is already live as v"
                        + live.get().version() + "; not redeploying");
                return new Outcome.Unchanged(live.get().version());
            }

            Builds.Build build = builds.find(app, number).orElseThrow();
            StagedTest test = manifest.test().command() == null
                    ? StagedTest.NONE
                    : url -> stagedTest(work, manifest, url, progress, app, number);
            ReleaseService.Result released = releaseService.release(
                    app,
                    build,
                    manifest,
                    manifestText,
                    config,
                    "Deploy " + commit.abbreviate(7).name() + " (build #" + number + ")",
                    test,
                    progress);
            released.release().phases().forEach(phases::record);
            if (!released.ok()) {
                return fail(
                        progress,
                        "release v" + released.release().version() + " failed: " + released.failure()
                                + (live.isPresent() ? "; v" + live.get().version() + " is still serving" : ""));
            }
            progress.say("-----> Live at " + releaseService.url(app) + "  (" + phases.summary() + ")");
            return new Outcome.Live(released.release().version());
        } finally {
            deleteTree(work);
        }
    }

    /** A build that ran: stored with its artifacts (its work directory kept for a staged test), or why not. */
    sealed interface Built {
        record Stored(int number, List<Builds.Artifact> artifacts, Path work) implements Built {}

        record Broken(String reason) implements Built {}
    }

    /**
     * Checks out the commit, runs the manifest's build command in the sandbox and stores the artifacts: a new build
     * of the app, recorded as succeeded or failed. On success the caller deletes {@code work} when done with it.
     */
    Built buildCommit(
            String app,
            Repository repo,
            RevCommit commit,
            String manifestText,
            Manifest manifest,
            String source,
            Phases phases,
            Progress progress)
            throws Exception {
        String command = manifest.build().command();
        String shown = command;
        if (command == null || command.isBlank()) {
            if (TreeWalk.forPath(repo, "config.ml", commit.getTree()) == null) {
                return new Built.Broken(
                        "mayfly.toml: [build] command is missing; say how to build the image, e.g. command = \"make\" "
                                + "(a MirageOS project with a config.ml at its root needs none)");
            }
            try {
                command = MirageRecipe.command(manifest.run().driver());
                shown = MirageRecipe.describe(manifest.run().driver());
            } catch (IllegalArgumentException e) {
                return new Built.Broken("mayfly.toml: " + e.getMessage());
            }
        }
        Optional<String> refused = sandbox.policy()
                .refuseHostPaths(manifest.build().hostPaths())
                .or(() -> sandbox.policy().refuseTimeout(manifest.build().timeout()));
        if (refused.isPresent()) return new Built.Broken(refused.get());
        int number = builds.start(app, source, commit.name(), manifestText, manifest, shown);
        progress.say("-----> Build #" + number + " (" + shown + ") of "
                + commit.abbreviate(7).name());
        Path work = workRoot.resolve(app + "-" + number);
        boolean keep = false;
        try {
            Checkout.write(repo, commit, work);
            Map<String, String> env = new LinkedHashMap<>();
            env.put("SOURCE_DATE_EPOCH", Integer.toString(commit.getCommitTime()));
            env.put("MAYFLY_APP", app);
            // A MirageOS build that names no artifact leaves its image somewhere in dist/, found once it is built.
            List<String> outputs = java.util.stream.Stream.of(
                            manifest.build().artifact() != null
                                    ? manifest.build().artifact()
                                    : MirageRecipe.DIST,
                            manifest.build().initrd())
                    .filter(java.util.Objects::nonNull)
                    .toList();
            BuildRequest request = new BuildRequest(
                    commit.name(),
                    work,
                    command,
                    manifest.build().network(),
                    manifest.build().hostPaths().stream().map(Path::of).toList(),
                    env,
                    manifest.build().timeout(),
                    MAX_BUILD_LOG,
                    logs.buildLog(app, number),
                    outputs);
            Files.createDirectories(logs.dir(app));
            BuildResult result =
                    phases.time("build", () -> builder.run(request, line -> progress.say("       " + line)));
            String provenance = result.provenance().toJson();
            if (result.outcome() instanceof BuildOutcome.Failed failed) {
                builds.fail(app, number, result.exitCode(), phases.get("build"), failed.reason(), provenance);
                logs.event(app, "build #" + number + " failed: " + failed.reason());
                return new Built.Broken("build #" + number + " failed: " + failed.reason());
            }
            List<Builds.Artifact> artifacts = new ArrayList<>();
            try {
                String image = manifest.build().artifact() != null
                        ? manifest.build().artifact()
                        : MirageRecipe.findImage(work, manifest.run().driver());
                artifacts.add(phases.time("store", () -> store(work, image)));
                if (manifest.build().initrd() != null) {
                    artifacts.add(phases.time(
                            "store", () -> store(work, manifest.build().initrd())));
                }
            } catch (IOException e) {
                builds.fail(app, number, result.exitCode(), phases.get("build"), e.getMessage(), provenance);
                return new Built.Broken(e.getMessage());
            }
            builds.succeed(app, number, result.exitCode(), phases.get("build"), provenance, artifacts);
            Builds.Artifact main = artifacts.get(0);
            progress.say("-----> Stored " + main.name() + " sha256:" + main.sha256() + " (" + size(main.size()) + ")");
            logs.event(app, "build #" + number + " succeeded: " + main.name() + " sha256:" + main.sha256());
            keep = true;
            return new Built.Stored(number, artifacts, work);
        } finally {
            if (!keep) deleteTree(work);
        }
    }

    /** What a rebuild found: whether every artifact came out with the same sha256, and if not, which did not. */
    public record Rebuilt(int build, int rebuild, boolean reproducible, List<String> differences) {}

    /**
     * Builds a recorded build again from its recorded commit and manifest, stores the result as a new build, and
     * records whether every artifact's sha256 matched (builder-web's reproducibility check).
     */
    public Rebuilt rebuild(String app, Repository repo, int number, Progress given) throws Exception {
        Progress progress = given.serialized(); // a build worker's output arrives on other threads
        Builds.Build original = builds.find(app, number)
                .orElseThrow(() -> new IllegalArgumentException(app + " has no build #" + number));
        if (!"git".equals(original.source()) && !original.source().startsWith("rebuild")) {
            throw new IllegalStateException("build #" + number + " of " + app + " was " + original.source()
                    + "ed: Mayfly never had its source, so it cannot build it again");
        }
        RevCommit commit;
        try (RevWalk walk = new RevWalk(repo)) {
            commit = walk.parseCommit(ObjectId.fromString(original.commitId()));
        }
        Manifest manifest = original.spec();
        if (manifest == null)
            throw new IllegalStateException("build #" + number + " of " + app
                    + " has no mayfly.toml that parses: nothing says how to build it");
        Built built = buildCommit(
                app, repo, commit, original.manifest(), manifest, "rebuild of #" + number, new Phases(), progress);
        if (built instanceof Built.Broken(String reason)) {
            throw new IllegalStateException("the rebuild of #" + number + " failed: " + reason);
        }
        Built.Stored stored = (Built.Stored) built;
        deleteTree(stored.work());
        List<String> differences = new ArrayList<>();
        for (Builds.Artifact a : original.artifacts()) {
            Optional<Builds.Artifact> again = stored.artifacts().stream()
                    .filter(b -> b.name().equals(a.name()))
                    .findFirst();
            if (again.isEmpty()) differences.add(a.name() + ": not produced by the rebuild");
            else if (!again.get().sha256().equals(a.sha256())) {
                differences.add(a.name() + ": sha256:" + a.sha256() + " then, sha256:"
                        + again.get().sha256() + " now");
            }
        }
        rebuilds.record(
                app,
                number,
                stored.number(),
                differences.isEmpty(),
                differences.isEmpty() ? null : String.join("\n", differences));
        logs.event(
                app,
                "rebuild #" + stored.number() + " of build #" + number + ": "
                        + (differences.isEmpty()
                                ? "reproducible"
                                : "not reproducible: " + String.join("; ", differences)));
        return new Rebuilt(number, stored.number(), differences.isEmpty(), differences);
    }

    private Builds.Artifact store(Path work, String relative) throws IOException {
        Path file = SandboxedBuild.requireArtifact(work, relative);
        ContentAddressedBlobs.Stored stored = blobs.put(file);
        return new Builds.Artifact(relative, stored.sha256(), stored.size());
    }

    private boolean sameAsLive(String app, Releases.Release live, List<Builds.Artifact> artifacts, Manifest manifest) {
        Optional<Builds.Build> liveBuild = builds.find(app, live.build());
        if (liveBuild.isEmpty()) return false;
        List<String> before = liveBuild.get().artifacts().stream()
                .map(a -> a.name() + "=" + a.sha256())
                .sorted()
                .toList();
        List<String> now = artifacts.stream()
                .map(a -> a.name() + "=" + a.sha256())
                .sorted()
                .toList();
        return before.equals(now)
                && live.spec() != null
                && runSettings(live.spec()).equals(runSettings(manifest));
    }

    /** The parts of a manifest that change how a release runs; a different build command alone is no reason to redeploy. */
    private static List<Object> runSettings(Manifest m) {
        return List.of(m.run(), m.health(), m.test());
    }

    private String stagedTest(Path work, Manifest manifest, String url, Progress progress, String app, int number)
            throws InterruptedException {
        progress.say("-----> Testing the staged instance: " + manifest.test().command());
        // The test may connect out, and to the staged instance when it is on this host's loopback: to no other port of
        // it.
        URI target = URI.create(url);
        List<Integer> hostPorts = List.of("127.0.0.1", "localhost", "[::1]").contains(target.getHost())
                ? List.of(target.getPort())
                : List.of();
        BuildRequest request = new BuildRequest(
                "test of build #" + number,
                work,
                manifest.test().command(),
                true,
                hostPorts,
                List.of(),
                Map.of("MAYFLY_TEST_URL", url, "MAYFLY_APP", app),
                manifest.test().timeout(),
                MAX_BUILD_LOG,
                logs.dir(app).resolve("test-" + number + ".log"),
                List.of());
        BuildResult result = sandbox.run(request, line -> progress.say("       " + line));
        return result.outcome() instanceof BuildOutcome.Failed failed ? failed.reason() : null;
    }

    /** Makes the commit the branch without building it (git:sync without --build), under the app's lock as a push does. */
    public void moveBranch(String app, Repository repo, ObjectId commit, Branch branch, Progress progress)
            throws Exception {
        releaseService.locked(app, progress, () -> {
            RepositorySync.move(repo, branch.ref(), branch.expected(), commit);
            return null;
        });
    }

    /** What a pusher reads when the branch moved under the push: who moved it does not matter, what to do does. */
    public static String movedMessage(String app, Branch branch, ObjectId now, String when) {
        String where = now.equals(ObjectId.zeroId())
                ? "was deleted"
                : "moved to " + now.abbreviate(7).name();
        return branch.name() + " of " + app + " " + where + " " + when + " (another push or sync deployed it); "
                + "fetch, merge or rebase onto it, and push again";
    }

    private static Outcome fail(Progress progress, String reason) {
        progress.say(" !     " + reason);
        return new Outcome.Failed(reason);
    }

    /** The commit's mayfly.toml, refused by its size before its bytes are loaded; empty when the commit has none. */
    static Optional<String> readManifest(Repository repo, RevCommit commit) throws IOException, ManifestException {
        try (TreeWalk tw = TreeWalk.forPath(repo, "mayfly.toml", commit.getTree())) {
            if (tw == null) return Optional.empty();
            ObjectLoader loader = repo.open(tw.getObjectId(0));
            Manifest.checkSize("mayfly.toml", loader.getSize());
            return Optional.of(new String(loader.getBytes(), StandardCharsets.UTF_8));
        }
    }

    static String size(long bytes) {
        return io.mayfly.wire.Human.size(bytes);
    }

    private static void deleteTree(Path dir) {
        try {
            DurableFiles.deleteTree(dir);
        } catch (IOException e) {
            log.warn("cannot remove build directory {}: {}", dir, e.toString());
        }
    }
}
