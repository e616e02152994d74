package io.mayfly.server.release;

import io.mayfly.server.git.GitRepositories;
import io.mayfly.server.git.RepositorySync;
import io.mayfly.server.store.AppSources;
import io.mayfly.wire.Progress;
import io.mayfly.wire.SourceRepository;
import java.util.Optional;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;

/**
 * Builds that do not come from a push: a webhook or {@code git:sync} fetches the app's repository and runs the
 * pipeline on its head; a schedule rebuilds the deployed head as it is. A commit that deployed becomes main.
 */
public final class SourceBuilds {
    private final GitRepositories repos;
    private final AppSources sources;
    private final PushPipeline pipeline;
    private final AppLogs logs;

    public SourceBuilds(GitRepositories repos, AppSources sources, PushPipeline pipeline, AppLogs logs) {
        this.repos = repos;
        this.sources = sources;
        this.pipeline = pipeline;
        this.logs = logs;
    }

    /** What a sync did: fetched nothing new, or ran the pipeline with this outcome. */
    public sealed interface Result {
        record Unchanged(String commit) implements Result {}

        record Built(String commit, PushPipeline.Outcome outcome) implements Result {}

        record Fetched(String commit) implements Result {}
    }

    /**
     * Fetches the app's source branch. With {@code build}, runs the pipeline on the fetched head (only when it
     * differs from main if {@code onlyIfChanged}); without, only makes the head main.
     */
    public Result sync(String app, boolean build, boolean onlyIfChanged, Progress progress) throws Exception {
        AppSources.Source source = sources.find(app)
                .orElseThrow(() -> new IllegalArgumentException(app
                        + " has no repository to sync from; set one with: mayfly apps:create " + app + " --repo URL"));
        try (Repository repo = repos.open(app)) {
            progress.say("-----> Fetching " + source.branch() + " of " + SourceRepository.printable(source.repoUrl()));
            ObjectId head;
            try {
                head = RepositorySync.fetch(repo, source.repoUrl(), source.branch());
            } catch (IllegalArgumentException refused) {
                throw new IllegalArgumentException("cannot sync " + app + ": " + refused.getMessage(), refused);
            }
            Optional<ObjectId> main = RepositorySync.main(repo);
            if (onlyIfChanged && main.isPresent() && main.get().equals(head)) {
                progress.say("-----> " + head.abbreviate(7).name() + " is already main; nothing to build");
                return new Result.Unchanged(head.name());
            }
            if (!build) {
                pipeline.moveBranch(app, repo, head, PushPipeline.Branch.main(), progress);
                return new Result.Fetched(head.name());
            }
            return new Result.Built(head.name(), run(app, repo, head, progress));
        }
    }

    /** Rebuilds the deployed head as it is (scheduled rebuilds: the code did not change, its dependencies may have). */
    public Optional<PushPipeline.Outcome> rebuildMain(String app, Progress progress) throws Exception {
        try (Repository repo = repos.open(app)) {
            Optional<ObjectId> main = RepositorySync.main(repo);
            if (main.isEmpty()) return Optional.empty();
            return Optional.of(run(app, repo, main.get(), progress));
        }
    }

    /** Builds build {@code number} again from its recorded commit and manifest; see {@link PushPipeline#rebuild}. */
    public PushPipeline.Rebuilt rebuild(String app, int number, Progress progress) throws Exception {
        try (Repository repo = repos.open(app)) {
            return pipeline.rebuild(app, repo, number, progress);
        }
    }

    private PushPipeline.Outcome run(String app, Repository repo, ObjectId commit, Progress progress) throws Exception {
        PushPipeline.Outcome outcome =
                pipeline.run(app, repo, commit, PushPipeline.Branch.main(), progress); // main moves once it deployed
        if (outcome instanceof PushPipeline.Outcome.Failed failed) {
            logs.event(app, "build of " + commit.abbreviate(7).name() + " failed: " + failed.reason());
        }
        return outcome;
    }
}
