package io.mayfly.server.git;

import io.mayfly.wire.SourceRepository;
import java.io.IOException;
import java.net.URISyntaxException;
import java.util.Optional;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.URIish;

/**
 * Brings an app's code from a repository elsewhere into its own repository (fetch the branch's head into
 * {@code refs/mayfly/incoming}), and moves a deploy branch to the commit that deployed, only from where it was.
 */
public final class RepositorySync {
    static final String INCOMING = "refs/mayfly/incoming";
    public static final String MAIN = "refs/heads/main";

    private RepositorySync() {}

    /**
     * Fetches {@code branch} of {@code url}; returns the fetched head commit. Checked again here, where it matters, so a
     * source stored before the rule (or by any other way in) cannot fetch from a path on this server or run a transport
     * helper: throws IllegalArgumentException for anything but a repository elsewhere.
     */
    public static ObjectId fetch(Repository repo, String url, String branch) throws IOException {
        requireRemote(url, branch);
        try {
            Git.wrap(repo)
                    .fetch()
                    .setCheckFetchedObjects(true)
                    .setRemote(url)
                    .setRefSpecs(new RefSpec("+refs/heads/" + branch + ":" + INCOMING))
                    .call();
        } catch (GitAPIException e) {
            throw new IOException("could not fetch branch " + branch + " of " + url + ": " + e.getMessage(), e);
        }
        Ref fetched = repo.exactRef(INCOMING);
        if (fetched == null) throw new IOException(url + " has no branch " + branch);
        return fetched.getObjectId();
    }

    private static void requireRemote(String url, String branch) {
        Optional<String> why = SourceRepository.whyRefused(url).or(() -> SourceRepository.whyRefusedBranch(branch));
        if (why.isEmpty()) {
            // And as JGit reads it: a transport that reaches a host, never the local file system.
            try {
                URIish uri = new URIish(url);
                boolean remote = uri.getHost() != null
                        && (uri.getScheme() == null
                                ? uri.getUser() != null
                                : uri.getScheme().equalsIgnoreCase("https")
                                        || uri.getScheme().equalsIgnoreCase("ssh"));
                if (!remote)
                    why = Optional.of("'" + SourceRepository.printable(url) + "' does not name a host to fetch from");
            } catch (URISyntaxException e) {
                why = Optional.of(
                        "'" + SourceRepository.printable(url) + "' is not a repository URL: " + e.getMessage());
            }
        }
        why.ifPresent(reason -> {
            throw new IllegalArgumentException(
                    "refusing to fetch: " + reason + "; an admin sets a repository elsewhere with "
                            + "PUT /api/v1/apps/APP/source (" + SourceRepository.HINT + ")");
        });
    }

    /** The app's deployed head (main), if any. */
    public static Optional<ObjectId> main(Repository repo) throws IOException {
        Ref main = repo.exactRef(MAIN);
        if (main == null) main = repo.exactRef("refs/heads/master");
        return Optional.ofNullable(main).map(Ref::getObjectId);
    }

    /**
     * Where {@code ref} points now if that is not {@code expected} (the zero id: that it does not exist; null: anything
     * is as expected); empty when it is as expected. The zero id in the answer means the ref is gone.
     */
    public static Optional<ObjectId> movedFrom(Repository repo, String ref, ObjectId expected) throws IOException {
        if (expected == null) return Optional.empty();
        Ref now = repo.exactRef(ref);
        ObjectId current = now == null || now.getObjectId() == null ? ObjectId.zeroId() : now.getObjectId();
        return current.equals(expected) ? Optional.empty() : Optional.of(current);
    }

    /**
     * Points {@code ref} at the commit that deployed, if it still points at {@code expected} (the zero id: does not
     * exist yet; null: whatever it points at). Throws when it does not, or the update fails.
     */
    public static void move(Repository repo, String ref, ObjectId expected, ObjectId commit) throws IOException {
        RefUpdate update = repo.updateRef(ref);
        update.setNewObjectId(commit);
        if (expected != null) update.setExpectedOldObjectId(expected);
        update.setForceUpdate(true);
        RefUpdate.Result result = update.update();
        if (result != RefUpdate.Result.NEW
                && result != RefUpdate.Result.FORCED
                && result != RefUpdate.Result.FAST_FORWARD
                && result != RefUpdate.Result.NO_CHANGE) {
            throw new IOException(
                    "could not move " + Repository.shortenRefName(ref) + " to " + commit.name() + ": " + result);
        }
    }
}
