package io.mayfly.server.build;

import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Writes a commit's tree into a directory: executable bits kept, symlinks as symlinks, submodules skipped. */
public final class Checkout {
    private Checkout() {}

    public static void write(Repository repo, ObjectId commitId, Path dir) throws IOException {
        Files.createDirectories(dir);
        try (RevWalk walk = new RevWalk(repo); TreeWalk tree = new TreeWalk(repo)) {
            RevCommit commit = walk.parseCommit(commitId);
            tree.addTree(commit.getTree());
            tree.setRecursive(true);
            while (tree.next()) {
                Path target = dir.resolve(tree.getPathString()).normalize();
                if (!target.startsWith(dir)) throw new IOException("refusing to write outside the checkout: " + tree.getPathString());
                FileMode mode = tree.getFileMode(0);
                if (mode == FileMode.GITLINK) continue;
                Files.createDirectories(target.getParent());
                var object = repo.open(tree.getObjectId(0));
                if (mode == FileMode.SYMLINK) {
                    Files.createSymbolicLink(target, Path.of(new String(object.getBytes(), StandardCharsets.UTF_8)));
                    continue;
                }
                try (OutputStream out = Files.newOutputStream(target)) {
                    object.copyTo(out);
                }
                Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(mode == FileMode.EXECUTABLE_FILE ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }
}
