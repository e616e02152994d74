package io.mayfly.server.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.TreeFormatter;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trees no honest git client makes, written straight into a repository: the checkout refuses each, names the path,
 * and writes nothing outside its directory.
 */
class CheckoutTest {
    @TempDir
    Path tmp;

    @Test
    void aSymlinkBesideADirectoryOfTheSameNameCannotWriteThroughTheLink() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("host-dir"));
        try (Repository repo = repo()) {
            ObjectInserter ins = repo.newObjectInserter();
            TreeFormatter sub = new TreeFormatter();
            sub.append("evil", FileMode.REGULAR_FILE, blob(ins, "written as root"));
            TreeFormatter top = new TreeFormatter();
            top.append("d", FileMode.SYMLINK, blob(ins, outside.toString()));
            top.append("d", FileMode.TREE, ins.insert(sub));
            ObjectId commit = commit(ins, ins.insert(top));
            Throwable refused = catchThrowable(() -> Checkout.write(repo, commit, tmp.resolve("checkout")));
            assertThat(refused).hasMessageContaining("refusing the path \"d/evil\"");
            assertThat(outside).isEmptyDirectory();
        }
    }

    @Test
    void dotDotDotGitAndNulNamesAreRefused() throws Exception {
        for (String name : new String[] {"..", ".", ".git", ".GIT"}) {
            try (Repository repo = repo()) {
                ObjectInserter ins = repo.newObjectInserter();
                TreeFormatter sub = new TreeFormatter();
                sub.append("config", FileMode.REGULAR_FILE, blob(ins, "x"));
                TreeFormatter top = new TreeFormatter();
                top.append(name, FileMode.TREE, ins.insert(sub));
                ObjectId commit = commit(ins, ins.insert(top));
                Path out = tmp.resolve("checkout-" + name.length() + name.hashCode());
                assertThat(catchThrowable(() -> Checkout.write(repo, commit, out)))
                        .as(name)
                        .hasMessageContaining("refusing the path");
                assertThat(tmp.resolve("config")).doesNotExist();
            }
        }
        assertThat(catchThrowable(() -> Checkout.check("a\0b"))).hasMessageContaining("NUL");
        assertThat(catchThrowable(() -> Checkout.check("/etc/passwd"))).hasMessageContaining("absolute");
        assertThat(catchThrowable(() -> Checkout.check("a//b"))).hasMessageContaining("empty name");
    }

    @Test
    void aFileIsNeverWrittenThroughALinkAlreadyAtItsPlace() throws Exception {
        Path outside = Files.writeString(tmp.resolve("victim"), "untouched");
        Checkout checkout = new Checkout(tmp.resolve("c"));
        checkout.symlink("link", outside.toString());
        assertThat(catchThrowable(() -> checkout.file("link", new ByteArrayInputStream("x".getBytes()), false)))
                .isNotNull();
        assertThat(catchThrowable(() -> checkout.file("link/x", new ByteArrayInputStream("x".getBytes()), false)))
                .hasMessageContaining("goes through \"link\"");
        assertThat(outside).hasContent("untouched");
    }

    private Repository repo() throws Exception {
        Path dir = Files.createTempDirectory(tmp, "repo");
        Repository repo = FileRepositoryBuilder.create(dir.resolve(".git").toFile());
        repo.create();
        return repo;
    }

    private static ObjectId blob(ObjectInserter ins, String content) throws Exception {
        return ins.insert(Constants.OBJ_BLOB, content.getBytes(StandardCharsets.UTF_8));
    }

    private static ObjectId commit(ObjectInserter ins, ObjectId tree) throws Exception {
        CommitBuilder c = new CommitBuilder();
        c.setTreeId(tree);
        PersonIdent who = new PersonIdent("t", "t@t");
        c.setAuthor(who);
        c.setCommitter(who);
        c.setMessage("hostile");
        ObjectId id = ins.insert(c);
        ins.flush();
        return id;
    }
}
