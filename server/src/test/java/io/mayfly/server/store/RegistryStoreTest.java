package io.mayfly.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryStoreTest {
    @TempDir
    Path dir;

    /** The database under test, the same one each time it is called within a test: SQLite here, PostgreSQL in the subclass. */
    Jdbi open() {
        return Database.sqlite(dir.resolve("m.db"));
    }

    @Test
    void findsEveryBuildOfAHashTheNewestSuccessfulBuildAndTheLatestVerdict() {
        Jdbi db = open();
        Apps apps = new Apps(db);
        Builds builds = new Builds(db);
        BuildIndex index = new BuildIndex(db);
        Rebuilds rebuilds = new Rebuilds(db);
        apps.create("a");
        apps.create("b");
        String same = "ab".repeat(32);
        assertThat(index.latestSucceeded("a")).isEmpty();

        builds.start("a", "git", "c1", "m", "make");
        builds.succeed("a", 1, 0, 10, "{}", List.of(new Builds.Artifact("hello", same, 5)));
        builds.start("a", "git", "c2", "m", "make");
        builds.fail("a", 2, 2, 10, "broken", null);
        builds.start("b", "git", "c3", "m", "make");
        builds.succeed("b", 1, 0, 10, "{}", List.of(new Builds.Artifact("img", same, 5)));

        assertThat(index.byArtifactHash(same))
                .containsExactly(new BuildIndex.Hit("a", 1, "hello", 5), new BuildIndex.Hit("b", 1, "img", 5));
        assertThat(index.byArtifactHash("cd".repeat(32))).isEmpty();
        assertThat(index.latestSucceeded("a")).contains(1);

        assertThat(rebuilds.latest("a", 1)).isEmpty();
        rebuilds.record("a", 1, 3, false, "hello: sha256:ab.. -> sha256:cd..");
        rebuilds.record("a", 1, 4, true, null);
        Rebuilds.Verdict latest = rebuilds.latest("a", 1).orElseThrow();
        assertThat(latest.rebuild()).isEqualTo(4);
        assertThat(latest.reproducible()).isTrue();
    }
}
