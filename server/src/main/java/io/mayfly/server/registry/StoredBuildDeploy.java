package io.mayfly.server.registry;

import io.mayfly.server.http.ApiError;
import io.mayfly.server.release.AppLocks;
import io.mayfly.server.release.ReleaseService;
import io.mayfly.server.store.BuildIndex;
import io.mayfly.server.store.Builds;
import io.mayfly.server.store.Releases;
import io.mayfly.wire.Progress;
import io.mayfly.wire.StagedTest;
import io.mayfly.wire.manifest.Manifest;
import java.util.Comparator;
import java.util.Optional;

/**
 * Deploys any stored build again, without rebuilding: a new release made of the build's artifacts, the manifest
 * recorded with that build, and the app's current config vars.
 */
final class StoredBuildDeploy {
    private final Builds builds;
    private final BuildIndex index;
    private final Releases releases;
    private final ReleaseService releaseService;

    StoredBuildDeploy(Builds builds, BuildIndex index, Releases releases, ReleaseService releaseService) {
        this.builds = builds;
        this.index = index;
        this.releases = releases;
        this.releaseService = releaseService;
    }

    private record Attempt(Optional<Releases.Release> liveBefore, ReleaseService.Result result) {}

    /** Exactly one of {@code number} and {@code sha256} is set. Throws an ApiError that says why when nothing was deployed. */
    Releases.Release deploy(String app, Integer number, String sha256, String strategy) throws Exception {
        Builds.Build build = number != null ? byNumber(app, number) : byHash(app, sha256);
        if (build.status() != Builds.Status.succeeded) {
            throw new ApiError(
                    409,
                    "build #" + build.number() + " of " + app + " " + build.status() + " and has nothing to deploy",
                    "pick a succeeded build: see mayfly builds -a " + app);
        }
        if (build.manifest() == null) {
            throw new ApiError(
                    409,
                    "build #" + build.number() + " of " + app
                            + " has no recorded mayfly.toml, so Mayfly does not know how to run it",
                    "push the source again, or deploy another build");
        }
        Manifest manifest = build.spec();
        if (manifest == null) {
            throw new ApiError(
                    409,
                    "the mayfly.toml recorded with build #" + build.number() + " of " + app + " does not parse",
                    "deploy another build, or push a fixed mayfly.toml");
        }
        if (strategy != null) {
            manifest = new Manifest(
                    manifest.build(), manifest.run().withStrategy(strategy), manifest.health(), manifest.test());
        }
        Manifest chosen = manifest;
        String hash =
                manifestArtifact(build, manifest).map(Builds.Artifact::sha256).orElse("?");
        Attempt attempt;
        try {
            attempt = releaseService.locked(app, Progress.NONE, () -> {
                Optional<Releases.Release> live = releases.live(app);
                // The app's current config vars (what the live release runs with, or vars set before any deploy).
                String config = releaseService.currentConfig(app);
                return new Attempt(
                        live,
                        releaseService.release(
                                app,
                                build,
                                chosen,
                                build.manifest(),
                                config,
                                "Deploy build #" + build.number() + " (sha256:"
                                        + hash.substring(0, Math.min(12, hash.length())) + ")",
                                StagedTest.NONE,
                                Progress.NONE));
            });
        } catch (AppLocks.Busy busy) {
            throw new ApiError(
                    409,
                    busy.getMessage(),
                    "nothing was deployed; try again when the other deploy of " + app + " finishes");
        }
        ReleaseService.Result result = attempt.result();
        Optional<Releases.Release> liveBefore = attempt.liveBefore();
        if (!result.ok()) {
            throw new ApiError(
                    409,
                    "deploy of build #" + build.number() + " of " + app + " failed as v"
                            + result.release().version() + ": " + result.failure(),
                    liveBefore
                                    .map(r -> "v" + r.version() + " is still serving; ")
                                    .orElse("") + "see mayfly logs -a " + app);
        }
        return result.release();
    }

    private Builds.Build byNumber(String app, int number) {
        return builds.find(app, number)
                .orElseThrow(() -> ApiError.notFound(
                        "app " + app + " has no build #" + number, "see mayfly builds -a " + app + " or /job/" + app));
    }

    /** The newest succeeded build of this app with an artifact of that hash. */
    private Builds.Build byHash(String app, String sha256) {
        String hex = sha256.toLowerCase(java.util.Locale.ROOT).replaceFirst("^sha256:", "");
        return index.byArtifactHash(hex).stream()
                .filter(hit -> hit.app().equals(app))
                .map(hit -> builds.find(app, hit.build()).orElseThrow())
                .filter(b -> b.status() == Builds.Status.succeeded)
                .max(Comparator.comparingInt(Builds.Build::number))
                .orElseThrow(() -> ApiError.notFound(
                        "no build of " + app + " produced an artifact with sha256:" + hex,
                        "see /hash?sha256=" + hex + " for builds of other apps, or mayfly builds -a " + app));
    }

    static Optional<Builds.Artifact> manifestArtifact(Builds.Build build, Manifest manifest) {
        return build.main(manifest.build().artifact());
    }
}
