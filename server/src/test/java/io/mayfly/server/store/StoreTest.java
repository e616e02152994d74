package io.mayfly.server.store;

import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class StoreTest {
    @TempDir
    Path dir;

    /** The database under test, the same one each time it is called within a test: SQLite here, PostgreSQL in the subclass. */
    Jdbi open() {
        return Database.sqlite(dir.resolve("m.db"));
    }

    @Test
    void buildsAndReleasesAreNumberedPerAppAndOnlyOneReleaseIsLive() {
        Jdbi db = open();
        Apps apps = new Apps(db);
        Builds builds = new Builds(db);
        Releases releases = new Releases(db);
        assertThat(apps.create("a")).isTrue();
        assertThat(apps.create("a")).isFalse();
        apps.create("b");

        int a1 = builds.start("a", "git", "c1", "m", "make");
        int a2 = builds.start("a", "git", "c2", "m", "make");
        int b1 = builds.start("b", "git", "c3", "m", "make");
        assertThat(List.of(a1, a2, b1)).containsExactly(1, 2, 1);
        builds.succeed("a", 1, 0, 10, "{}", List.of(new Builds.Artifact("hello", "ab".repeat(32), 5)));
        builds.succeed("a", 2, 0, 10, "{}", List.of(new Builds.Artifact("hello", "ab".repeat(32), 5)));
        assertThat(builds.find("a", 1).orElseThrow().artifacts()).containsExactly(new Builds.Artifact("hello", "ab".repeat(32), 5));

        var v1 = releases.create("a", 1, "first", "toml", "{}");
        releases.markLive("a", v1.version(), Map.of("boot", 5L));
        var v2 = releases.create("a", 2, "second", "toml", "{}");
        releases.markLive("a", v2.version(), Map.of());
        assertThat(releases.live("a").orElseThrow().version()).isEqualTo(2);
        assertThat(releases.list("a")).extracting(Releases.Release::status)
                .containsExactly(Releases.Status.live, Releases.Status.superseded);
        assertThat(releases.find("a", 1).orElseThrow().phases()).containsEntry("boot", 5L);
    }

    @Test
    void theChangeStampMovesWithEveryChangeToWhatAgentsMustRunAndOnlyThen() {
        Jdbi db = open();
        new Apps(db).create("a");
        Agents agents = new Agents(db);
        List<String> stamps = new ArrayList<>(List.of(agents.changeStamp()));
        assertThat(agents.changeStamp()).as("stable while nothing changes").isEqualTo(stamps.getLast());

        Builds builds = new Builds(db);
        builds.start("a", "git", "c1", "m", "make");
        builds.succeed("a", 1, 0, 10, "{}", List.of());
        assertThat(agents.changeStamp()).as("a build alone changes nothing an agent runs").isEqualTo(stamps.getLast());
        Releases releases = new Releases(db);
        var v1 = releases.create("a", 1, "first", "toml", "{}");
        stamps.add(agents.changeStamp());
        releases.markLive("a", v1.version(), Map.of());
        stamps.add(agents.changeStamp());
        new Formation(db).set("a", 3);
        stamps.add(agents.changeStamp());
        agents.register("host", new io.mayfly.wire.AgentViews.Registration(List.of("process"), 1024, "127.0.0.1:1"));
        agents.place("a", "host");
        stamps.add(agents.changeStamp());
        new Formation(db).clear("a");
        stamps.add(agents.changeStamp());

        assertThat(stamps).doesNotHaveDuplicates();
    }

    @Test
    void aRestartMarksWhatWasUnderWayAsInterruptedAndKeepsTheLiveRelease() {
        Jdbi db = open();
        new Apps(db).create("a");
        Builds builds = new Builds(db);
        Releases releases = new Releases(db);
        builds.start("a", "git", "c1", "m", "make");
        builds.succeed("a", 1, 0, 1, "{}", List.of());
        releases.markLive("a", releases.create("a", 1, "one", "t", "{}").version(), Map.of());
        builds.start("a", "git", "c2", "m", "make");
        releases.create("a", 1, "two", "t", "{}");

        Jdbi reopened = open();
        assertThat(new Builds(reopened).failInterrupted()).isEqualTo(1);
        assertThat(new Releases(reopened).failInterrupted()).isEqualTo(1);
        assertThat(new Releases(reopened).live("a").orElseThrow().version()).isEqualTo(1);
        assertThat(new Builds(reopened).find("a", 2).orElseThrow().reason()).contains("interrupted");
    }

    @Test
    void tokensAreStoredHashedAndFoundBySecret() {
        Jdbi db = open();
        Tokens tokens = new Tokens(db);
        var created = tokens.create("admin", null, "test", null);
        assertThat(tokens.use(created.secret())).map(Tokens.Token::scope).contains("admin");
        assertThat(tokens.use("mf_wrong")).isEmpty();
        String stored = db.withHandle(h -> h.select("SELECT hash FROM tokens").mapTo(String.class).one());
        assertThat(stored).isNotEqualTo(created.secret()).isEqualTo(Tokens.hash(created.secret()));
    }

    @Test
    void writersNumberingBuildsAndReleasesOfOneAppAtOnceNeverCollideNorFailBusy() throws Exception {
        Jdbi first = open();
        Jdbi second = open();
        new Apps(first).create("a");
        List<Callable<Integer>> starts = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Builds builds = new Builds(i % 2 == 0 ? first : second, "server-" + (i % 2));
            starts.add(() -> builds.start("a", "git", "c", "m", "make"));
        }
        List<Integer> numbers = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (Future<Integer> f : pool.invokeAll(starts)) numbers.add(f.get());
        }
        assertThat(numbers).hasSize(20).doesNotHaveDuplicates().allMatch(n -> n >= 1 && n <= 20);

        new Builds(first).succeed("a", 1, 0, 1, "{}", List.of(new Builds.Artifact("img", "cd".repeat(32), 3)));
        List<Callable<Integer>> releases = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Releases r = new Releases(i % 2 == 0 ? first : second, "server-" + (i % 2));
            releases.add(() -> r.create("a", 1, "d", "t", "{}").version());
        }
        List<Integer> versions = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (Future<Integer> f : pool.invokeAll(releases)) versions.add(f.get());
        }
        assertThat(versions).containsExactlyInAnyOrder(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    }
}
