package io.mayfly.server.push;

import io.mayfly.server.git.GitRepositories;
import io.mayfly.server.git.RepositorySync;
import io.mayfly.server.http.RequestBodies;
import io.mayfly.server.release.PushPipeline;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.util.Collection;
import java.util.Set;
import java.util.function.Predicate;
import org.eclipse.jgit.errors.RepositoryNotFoundException;
import org.eclipse.jgit.errors.TooLargePackException;
import org.eclipse.jgit.http.server.GitServlet;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.transport.ReceiveCommand;
import org.eclipse.jgit.transport.ReceivePack;
import org.eclipse.jgit.transport.UnpackErrorHandler;
import org.eclipse.jgit.transport.UploadPack;
import org.eclipse.jgit.transport.resolver.RepositoryResolver;
import org.eclipse.jgit.transport.resolver.ServiceNotEnabledException;

/**
 * JGit's smart HTTP servlet, wired so that a push to {@code main} or {@code master} runs the pipeline inside
 * the pre-receive hook: the pipeline moves the branch itself, under the app's lock, once the build and the deploy
 * succeeded, so a failed push leaves both the repository and the live release as they were, and of two pushes at
 * once the second fails if the first moved the branch it started from.
 */
public final class PushReceiver {
    private static final Set<String> DEPLOY_BRANCHES = Set.of("refs/heads/main", "refs/heads/master");

    private PushReceiver() {}

    /** @param maxPackBytes the largest pack a push may send (mayfly server --max-upload); JGit has no limit of its own */
    public static GitServlet servlet(
            GitRepositories repos, Predicate<String> appExists, PushPipeline pipeline, long maxPackBytes) {
        GitServlet servlet = new GitServlet();
        servlet.setRepositoryResolver((RepositoryResolver<HttpServletRequest>) (req, name) -> {
            String app = name.endsWith(".git") ? name.substring(0, name.length() - 4) : name;
            if (!appExists.test(app)) {
                throw new RepositoryNotFoundException(
                        "no app named '" + app + "'; create it with: mayfly apps:create " + app);
            }
            try {
                return repos.open(app);
            } catch (IOException e) {
                throw new ServiceNotEnabledException("cannot open the repository of " + app + ": " + e.getMessage(), e);
            }
        });
        servlet.setUploadPackFactory((req, db) -> new UploadPack(db));
        servlet.setReceivePackFactory((req, db) -> receivePack(db, pipeline, maxPackBytes));
        return servlet;
    }

    /** A receive-pack whose pre-receive hook runs the pipeline for the deploy branch, taking packs up to {@code maxPackBytes}. */
    static ReceivePack receivePack(Repository db, PushPipeline pipeline, long maxPackBytes) {
        ReceivePack rp = new ReceivePack(db);
        String app = appOf(db);
        rp.setAllowNonFastForwards(true);
        // git fsck's checks on every object received: duplicate names (a symlink d beside a directory d/), "..",
        // ".git", names with "/" or NUL are refused before anything is stored.
        rp.setCheckReceivedObjects(true);
        rp.setMaxPackSizeLimit(maxPackBytes);
        UnpackErrorHandler jgit = rp.getUnpackErrorHandler();
        rp.setUnpackErrorHandler(error -> {
            if (error instanceof TooLargePackException) {
                rp.sendMessage(
                        " !     the push is larger than this server takes (at most " + RequestBodies.human(maxPackBytes)
                                + " of objects); "
                                + "nothing was stored. Push less at a time, keep build outputs out of git, or raise mayfly server --max-upload");
            }
            jgit.handleUnpackException(error);
        });
        rp.setPreReceiveHook((pack, commands) -> deploy(app, pack, commands, pipeline));
        return rp;
    }

    private static void deploy(
            String app, ReceivePack pack, Collection<ReceiveCommand> commands, PushPipeline pipeline) {
        explainStale(app, pack);
        for (ReceiveCommand cmd : commands) {
            if (cmd.getResult() != ReceiveCommand.Result.NOT_ATTEMPTED) continue;
            if (cmd.getType() == ReceiveCommand.Type.DELETE) {
                if (DEPLOY_BRANCHES.contains(cmd.getRefName())) {
                    cmd.setResult(
                            ReceiveCommand.Result.REJECTED_NODELETE,
                            "the deploy branch cannot be deleted; use mayfly apps:destroy");
                }
                continue;
            }
            if (!DEPLOY_BRANCHES.contains(cmd.getRefName())) {
                pack.sendMessage("-----> " + cmd.getRefName() + " stored; only a push to main or master deploys");
                continue;
            }
            // The pipeline moves the branch itself, under the app's lock, only from where this push found it: so a push
            // that waited for another one's deploy cannot leave the branch at one commit while the other is live.
            PushPipeline.Outcome outcome = pipeline.run(
                    app,
                    pack.getRepository(),
                    cmd.getNewId(),
                    new PushPipeline.Branch(cmd.getRefName(), cmd.getOldId()),
                    line -> {
                        pack.sendMessage(line);
                        try {
                            pack.getMessageOutputStream().flush();
                        } catch (IOException ignored) {
                            // the client went away; the pipeline still finishes and records its result
                        }
                    });
            if (outcome instanceof PushPipeline.Outcome.Failed failed) {
                cmd.setResult(ReceiveCommand.Result.REJECTED_OTHER_REASON, failed.reason());
            } else {
                cmd.setResult(
                        ReceiveCommand.Result.OK); // done: JGit leaves a command that is no longer NOT_ATTEMPTED alone
            }
        }
    }

    /**
     * JGit refuses a deploy-branch command whose old id is not where the branch is now ("invalid old id sent"): the
     * branch moved since the client looked (another push deployed). Says so, and what to do, in the pusher's words.
     */
    private static void explainStale(String app, ReceivePack pack) {
        for (ReceiveCommand cmd : pack.getAllCommands()) {
            if (cmd.getResult() != ReceiveCommand.Result.REJECTED_OTHER_REASON
                    || !DEPLOY_BRANCHES.contains(cmd.getRefName())) continue;
            try {
                PushPipeline.Branch branch = new PushPipeline.Branch(cmd.getRefName(), cmd.getOldId());
                RepositorySync.movedFrom(pack.getRepository(), cmd.getRefName(), cmd.getOldId())
                        .ifPresent(now -> cmd.setResult(
                                ReceiveCommand.Result.REJECTED_OTHER_REASON,
                                PushPipeline.movedMessage(app, branch, now, "since this push began")));
            } catch (IOException e) {
                // JGit's own reason stands
            }
        }
    }

    private static String appOf(Repository db) {
        String name = db.getDirectory().getName();
        return name.endsWith(".git") ? name.substring(0, name.length() - 4) : name;
    }
}
