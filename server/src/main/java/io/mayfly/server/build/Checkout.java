package io.mayfly.server.build;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.treewalk.TreeWalk;

/**
 * Writes a tree a tenant sent into a directory so that nothing can land outside it: executable bits kept, symlinks
 * written as symlinks but never followed, submodules skipped. A name that is empty, {@code .}, {@code ..},
 * {@code .git} (in any case), absolute or holds a NUL is refused, and so is a path that goes through a symlink or
 * a file written before it (a tree with both {@code d -> /etc} and {@code d/x}). Every file is created new, without
 * following a link at its place. The refusal names the path and why; the caller discards the directory.
 */
public final class Checkout {
    /** The longest path and name accepted; Linux's own limits. */
    static final int MAX_PATH = 4096, MAX_NAME = 255;

    private final Path root;
    /** Paths written as files or symlinks: nothing may be written below them. */
    private final Set<String> leaves = new HashSet<>();

    /** A checkout into {@code root}, which is created and must be new or empty. */
    public Checkout(Path root) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        Files.createDirectories(this.root);
    }

    /** Writes the commit's tree into {@code dir}. */
    public static void write(Repository repo, ObjectId commitId, Path dir) throws IOException {
        Checkout checkout = new Checkout(dir);
        try (RevWalk walk = new RevWalk(repo);
                TreeWalk tree = new TreeWalk(repo)) {
            RevCommit commit = walk.parseCommit(commitId);
            tree.addTree(commit.getTree());
            tree.setRecursive(true);
            while (tree.next()) {
                FileMode mode = tree.getFileMode(0);
                if (mode == FileMode.GITLINK) continue;
                var object = repo.open(tree.getObjectId(0));
                String path = tree.getPathString();
                if (mode == FileMode.SYMLINK) {
                    checkout.symlink(path, new String(object.getBytes(), StandardCharsets.UTF_8));
                } else {
                    try (InputStream in = object.openStream()) {
                        checkout.file(path, in, mode == FileMode.EXECUTABLE_FILE);
                    }
                }
            }
        }
    }

    /** Writes a regular file at {@code path} (relative, '/'-separated) with the content of {@code in}. */
    public void file(String path, InputStream in, boolean executable) throws IOException {
        Path target = place(path);
        try (OutputStream out = Files.newOutputStream(
                target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            in.transferTo(out);
        }
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
    }

    /** Writes a symbolic link at {@code path}; where it points is the tenant's business, as it is never followed here. */
    public void symlink(String path, String pointsTo) throws IOException {
        if (pointsTo.isEmpty() || pointsTo.indexOf('\0') >= 0)
            throw refused(path, "the symlink's target is empty or holds a NUL byte");
        Files.createSymbolicLink(place(path), Path.of(pointsTo));
    }

    /** Checks the path, creates its directories (never through a link), and returns where its entry goes. */
    private Path place(String path) throws IOException {
        check(path);
        String[] parts = path.split("/");
        Path at = root;
        StringBuilder prefix = new StringBuilder();
        for (int i = 0; i < parts.length - 1; i++) {
            prefix.append(i == 0 ? "" : "/").append(parts[i]);
            if (leaves.contains(prefix.toString())) {
                throw refused(
                        path, "it goes through \"" + prefix + "\", which this tree also has as a file or a symlink");
            }
            at = at.resolve(parts[i]);
            if (Files.isSymbolicLink(at)) throw refused(path, "\"" + prefix + "\" is a symlink");
            if (!Files.isDirectory(at, LinkOption.NOFOLLOW_LINKS)) Files.createDirectory(at);
        }
        if (!leaves.add(path)) throw refused(path, "the tree holds it twice");
        Path target = at.resolve(parts[parts.length - 1]);
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS))
            throw refused(path, "the tree holds it both as a directory and as a file");
        return target;
    }

    /** Throws, naming the path and why, unless it is a plain relative path that stays inside the checkout. */
    static void check(String path) throws IOException {
        if (path.isEmpty()) throw refused(path, "the name is empty");
        if (path.length() > MAX_PATH)
            throw refused(path.substring(0, 80) + "...", "the path is longer than " + MAX_PATH + " bytes");
        if (path.indexOf('\0') >= 0) throw refused(path.replace('\0', '?'), "the name holds a NUL byte");
        if (path.startsWith("/")) throw refused(path, "the path is absolute");
        for (String part : path.split("/", -1)) {
            if (part.isEmpty()) throw refused(path, "it has an empty name in it");
            if (part.equals(".") || part.equals("..")) throw refused(path, "it has \"" + part + "\" in it");
            if (part.toLowerCase(Locale.ROOT).equals(".git")) throw refused(path, "\".git\" is git's own directory");
            if (part.length() > MAX_NAME) throw refused(path, "a name in it is longer than " + MAX_NAME + " bytes");
        }
    }

    private static IOException refused(String path, String why) {
        return new IOException("refusing the path \"" + path + "\" of the pushed tree: " + why);
    }
}
