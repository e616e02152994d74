package io.mayfly.server.git;

import io.mayfly.server.store.DurableFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

/** The bare repositories of all apps, one per app under {@code DATA/git/APP.git}. */
public final class GitRepositories {
    private final Path root;

    public GitRepositories(Path root) throws IOException {
        this.root = root;
        Files.createDirectories(root);
    }

    public Path path(String app) {
        return root.resolve(app + ".git");
    }

    /**
     * Opens the app's repository, creating it on first use with {@code HEAD} on {@code main}, the branch that deploys,
     * so a clone checks it out. A repository whose {@code HEAD} names a branch that does not exist (made before, when
     * it named {@code master}) gets it pointed at the deploy branch that does.
     */
    public Repository open(String app) throws IOException {
        Path dir = path(app);
        Repository repo = FileRepositoryBuilder.create(dir.toFile());
        if (!Files.exists(dir.resolve("HEAD"))) {
            repo.create(true);
            var config = repo.getConfig();
            config.setBoolean("http", null, "receivepack", true);
            config.save();
            pointHeadAt(repo, RepositorySync.MAIN);
        } else {
            Ref head = repo.exactRef(Constants.HEAD);
            if (head == null || head.getObjectId() == null) {
                for (String branch : new String[] {RepositorySync.MAIN, "refs/heads/master"}) {
                    if (repo.exactRef(branch) != null) {
                        pointHeadAt(repo, branch);
                        break;
                    }
                }
            }
        }
        return repo;
    }

    private static void pointHeadAt(Repository repo, String branch) throws IOException {
        RefUpdate.Result result = repo.updateRef(Constants.HEAD).link(branch);
        // Another request may be doing the same at once (LOCK_FAILURE): either way HEAD ends up on the branch.
        if (result != RefUpdate.Result.NEW
                && result != RefUpdate.Result.FORCED
                && result != RefUpdate.Result.NO_CHANGE
                && result != RefUpdate.Result.LOCK_FAILURE) {
            throw new IOException("could not point HEAD of " + repo.getDirectory() + " at " + branch + ": " + result);
        }
    }

    public void delete(String app) throws IOException {
        DurableFiles.deleteTree(path(app));
    }
}
