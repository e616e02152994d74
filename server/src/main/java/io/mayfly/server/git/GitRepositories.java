package io.mayfly.server.git;

import io.mayfly.server.store.DurableFiles;

import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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

    /** Opens the app's repository, creating it on first use. */
    public Repository open(String app) throws IOException {
        Path dir = path(app);
        Repository repo = FileRepositoryBuilder.create(dir.toFile());
        if (!Files.exists(dir.resolve("HEAD"))) {
            repo.create(true);
            var config = repo.getConfig();
            config.setBoolean("http", null, "receivepack", true);
            config.save();
        }
        return repo;
    }

    public void delete(String app) throws IOException {
        DurableFiles.deleteTree(path(app));
    }
}
