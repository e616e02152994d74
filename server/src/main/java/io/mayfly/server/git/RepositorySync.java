package io.mayfly.server.git;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.transport.RefSpec;

import java.io.IOException;
import java.util.Optional;

/**
 * Brings an app's code from a repository elsewhere into its own repository: fetch the branch's head into
 * {@code refs/mayfly/incoming}, and once it deployed, make it the app's {@code main}.
 */
public final class RepositorySync {
    static final String INCOMING = "refs/mayfly/incoming";
    public static final String MAIN = "refs/heads/main";

    private RepositorySync() {}

    /** Fetches {@code branch} of {@code url}; returns the fetched head commit. */
    public static ObjectId fetch(Repository repo, String url, String branch) throws IOException {
        try {
            Git.wrap(repo).fetch().setCheckFetchedObjects(true).setRemote(url).setRefSpecs(new RefSpec("+refs/heads/" + branch + ":" + INCOMING)).call();
        } catch (GitAPIException e) {
            throw new IOException("could not fetch branch " + branch + " of " + url + ": " + e.getMessage(), e);
        }
        Ref fetched = repo.exactRef(INCOMING);
        if (fetched == null) throw new IOException(url + " has no branch " + branch);
        return fetched.getObjectId();
    }

    /** The app's deployed head (main), if any. */
    public static Optional<ObjectId> main(Repository repo) throws IOException {
        Ref main = repo.exactRef(MAIN);
        if (main == null) main = repo.exactRef("refs/heads/master");
        return Optional.ofNullable(main).map(Ref::getObjectId);
    }

    /** Points the app's main at the commit that deployed. */
    public static void promote(Repository repo, ObjectId commit) throws IOException {
        RefUpdate update = repo.updateRef(MAIN);
        update.setNewObjectId(commit);
        update.setForceUpdate(true);
        RefUpdate.Result result = update.update();
        if (result != RefUpdate.Result.NEW && result != RefUpdate.Result.FORCED && result != RefUpdate.Result.FAST_FORWARD
                && result != RefUpdate.Result.NO_CHANGE) {
            throw new IOException("could not move main to " + commit.name() + ": " + result);
        }
    }
}
