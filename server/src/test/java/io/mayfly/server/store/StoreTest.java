package io.mayfly.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
        assertThat(builds.find("a", 1).orElseThrow().artifacts())
                .containsExactly(new Builds.Artifact("hello", "ab".repeat(32), 5));

        var v1 = releases.create("a", 1, "first", "toml", "{}");
        releases.markLive("a", v1.version(), Map.of("boot", 5L));
        var v2 = releases.create("a", 2, "second", "toml", "{}");
        releases.markLive("a", v2.version(), Map.of());
        assertThat(releases.live("a").orElseThrow().version()).isEqualTo(2);
        assertThat(releases.list("a"))
                .extracting(Releases.Release::status)
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
        assertThat(agents.changeStamp())
                .as("a build alone changes nothing an agent runs")
                .isEqualTo(stamps.getLast());
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
    void aManifestIsKeptParsedWithItsBuildAndReleaseAndRowsStoredBeforeGetTheirsAtTheNextStart() throws Exception {
        Jdbi db = open();
        new Apps(db).create("a");
        Builds builds = new Builds(db);
        Releases releases = new Releases(db);
        String toml = "[build]\ncommand = \"make\"\nartifact = \"hello\"\n[run]\ninstances = 3\n";
        io.mayfly.wire.manifest.Manifest parsed = io.mayfly.wire.manifest.Manifest.parse("mayfly.toml", toml);
        builds.start("a", "git", "c1", toml, "make");
        builds.start(
                "a", "git", "c2", "[build]\ncommand = ", "make"); // a manifest that does not parse: its build fails
        releases.create("a", 1, "one", toml, "{}");
        assertThat(builds.find("a", 1).orElseThrow().spec()).isEqualTo(parsed);
        assertThat(builds.find("a", 2).orElseThrow().spec()).isNull();
        assertThat(releases.find("a", 1).orElseThrow().spec()).isEqualTo(parsed);
        assertThat(builds.storeSpecs() + releases.storeSpecs())
                .as("nothing to do: all kept, or unparseable")
                .isZero();

        // As a server before this version left them: no spec, or one in another version's form.
        db.useHandle(h -> h.execute("UPDATE builds SET spec = NULL"));
        db.useHandle(h -> h.execute("UPDATE releases SET spec = '{\"v\":0,\"manifest\":{}}'"));
        assertThat(releases.find("a", 1).orElseThrow().spec()).isNull();
        assertThat(builds.storeSpecs()).isEqualTo(1);
        assertThat(releases.storeSpecs()).isEqualTo(1);
        assertThat(builds.find("a", 1).orElseThrow().spec()).isEqualTo(parsed);
        assertThat(builds.find("a", 2).orElseThrow().spec()).isNull();
        assertThat(releases.find("a", 1).orElseThrow().spec().run().instances()).isEqualTo(3);
        assertThat(releases.find("a", 1).orElseThrow().manifest())
                .as("the text is kept for display")
                .isEqualTo(toml);
    }

    @Test
    void aReleaseShowsTheArtifactItsManifestNamesNotTheFirstByName() throws Exception {
        Jdbi db = open();
        new Apps(db).create("vm");
        Builds builds = new Builds(db);
        Releases releases = new Releases(db);
        String toml =
                "[build]\ncommand = \"make\"\nartifact = \"vmlinux\"\ninitrd = \"initramfs.cpio\"\n[run]\ndriver = \"qemu\"\n";
        builds.start("vm", "git", "c1", toml, "make");
        List<Builds.Artifact> both = List.of(
                new Builds.Artifact("initramfs.cpio", "aa".repeat(32), 7),
                new Builds.Artifact("vmlinux", "bb".repeat(32), 9));
        builds.succeed("vm", 1, 0, 1, "{}", both);
        builds.start("vm", "upload", "c2", null, "upload");
        builds.succeed("vm", 2, 0, 1, "{}", both);

        Builds.Build named = builds.find("vm", 1).orElseThrow();
        assertThat(named.artifacts().getFirst().name()).isEqualTo("initramfs.cpio");
        assertThat(named.mainArtifact()).map(Builds.Artifact::name).contains("vmlinux");
        assertThat(builds.find("vm", 2).orElseThrow().mainArtifact())
                .as("no manifest: the first")
                .map(Builds.Artifact::name)
                .contains("initramfs.cpio");

        var view = releases.create("vm", 1, "one", toml, "{}").view(named.mainArtifact());
        assertThat(view.artifact()).isEqualTo("vmlinux");
        assertThat(view.sha256()).isEqualTo("bb".repeat(32));
        assertThat(view.size()).isEqualTo(9);
        assertThat(view.status()).isEqualTo("deploying");
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

    /** A database with no schema yet, to migrate step by step: SQLite here, PostgreSQL in the subclass. */
    DataSource empty() {
        return Database.sqliteDataSource(dir.resolve("old.db"));
    }

    @Test
    void destroyingAnAppRevokesItsTokensForGoodAndNoTokenIsMadeForAnAppThatIsGone() {
        Jdbi db = open();
        Apps apps = new Apps(db);
        Tokens tokens = new Tokens(db);
        apps.create("web");
        apps.create("api");
        var deploy = tokens.create("deploy", "web", null, null);
        var read = tokens.create("read", "web", null, null);
        var otherApp = tokens.create("read", "api", null, null);
        var hostNamedLikeTheApp = tokens.create("agent", "web", null, null);
        var admin = tokens.create("admin", null, null, null);

        assertThat(apps.delete("web")).isEqualTo(2);
        apps.create("web");

        for (var gone : List.of(deploy, read)) {
            Tokens.Token token = tokens.use(gone.secret()).orElseThrow();
            assertThat(token.revokedAt())
                    .as("revoked, and still after the app is made again")
                    .isNotNull();
            assertThat(token.revokedReason()).isEqualTo("app web was destroyed");
        }
        for (var kept : List.of(otherApp, hostNamedLikeTheApp, admin)) {
            assertThat(tokens.use(kept.secret()).orElseThrow().revokedAt()).isNull();
        }
        assertThatThrownBy(() -> tokens.create("deploy", "gone", null, null)).hasMessageContaining("no app named gone");
    }

    @Test
    void anAppsRegistryIsPrivateUntilMadePublicAndOnlyARealChangeCounts() {
        Apps apps = new Apps(open());
        apps.create("web");
        apps.create("site", true);
        assertThat(apps.find("web").orElseThrow().isPublic()).isFalse();
        assertThat(apps.find("site").orElseThrow().isPublic()).isTrue();

        assertThat(apps.setPublic("web", true)).isTrue();
        assertThat(apps.setPublic("web", true)).as("already public").isFalse();
        assertThat(apps.all())
                .extracting(Apps.App::name, Apps.App::isPublic)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("site", true),
                        org.assertj.core.groups.Tuple.tuple("web", true));
        assertThat(apps.setPublic("site", false)).isTrue();
        assertThat(apps.find("site").orElseThrow().isPublic()).isFalse();
        assertThat(apps.setPublic("gone", true)).isFalse();
    }

    @Test
    void theUpgradeToPublicRegistriesLeavesEveryAppPrivate() throws Exception {
        DataSource ds = empty();
        try {
            Database.migrate(ds, "13");
            Jdbi.create(ds).useHandle(h -> h.execute("INSERT INTO apps(name, created_at) VALUES ('web', 1000)"));

            Database.migrate(ds);

            Apps.App web = new Apps(Jdbi.create(ds)).find("web").orElseThrow();
            assertThat(web.isPublic()).isFalse();
            assertThat(web.createdAt().toEpochMilli()).isEqualTo(1000);
        } finally {
            if (ds instanceof AutoCloseable closeable) closeable.close();
        }
    }

    @Test
    void theUpgradeRevokesTokensLeftOverFromAppsDestroyedBeforeIt() throws Exception {
        DataSource ds = empty();
        try {
            Database.migrate(ds, "11");
            Jdbi db = Jdbi.create(ds);
            db.useHandle(h -> {
                h.execute("INSERT INTO apps(name, created_at) VALUES ('web', 3000), ('api', 100)");
                h.execute("INSERT INTO audit(app, at, actor, action) VALUES ('web', 2000, 'token t1', 'destroy'), "
                        + "('web', 2500, 'token t1', 'destroy')");
                String insert =
                        "INSERT INTO tokens(id, hash, scope, app, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)";
                h.execute(insert, "before", "h1", "deploy", "web", 1000, null);
                h.execute(insert, "after", "h2", "read", "web", 4000, null);
                h.execute(insert, "orphan", "h3", "read", "gone", 500, null);
                h.execute(insert, "api", "h4", "upload", "api", 200, null);
                h.execute(insert, "host", "h5", "agent", "web", 100, null);
                h.execute(insert, "by-hand", "h6", "read", "web", 1000, 1500);
            });

            Database.migrate(ds);

            Map<String, String> revoked = new java.util.TreeMap<>();
            db.useHandle(h -> h.select("SELECT id, revoked_at, revoked_reason FROM tokens")
                    .map((rs, ctx) -> {
                        revoked.put(
                                rs.getString(1), rs.getObject(2) == null ? "-" : rs.getLong(2) + " " + rs.getString(3));
                        return null;
                    })
                    .list());
            assertThat(revoked)
                    .containsExactlyEntriesOf(new java.util.TreeMap<>(Map.of(
                            "before", "2000 app web was destroyed",
                            "after", "-",
                            "orphan", "500 app gone no longer exists",
                            "api", "-",
                            "host", "-",
                            "by-hand", "1500 null")));
        } finally {
            if (ds instanceof AutoCloseable closeable) closeable.close();
        }
    }

    @Test
    void aWebhookDeliveryIsTakenOnceUntilItIsForgottenOrAWeekOld() {
        Jdbi db = open();
        new Apps(db).create("web");
        new Apps(db).create("api");
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(1_000_000_000L);
        java.time.Clock clock = new java.time.Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public java.time.Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public java.time.Instant instant() {
                return java.time.Instant.ofEpochMilli(now.get());
            }
        };
        WebhookDeliveries deliveries = new WebhookDeliveries(db, clock);

        assertThat(deliveries.first("web", "github", "d1")).isTrue();
        assertThat(deliveries.first("web", "github", "d1")).as("sent again").isFalse();
        assertThat(deliveries.first("api", "github", "d1")).as("another app's").isTrue();
        assertThat(deliveries.first("web", "gitea", "d1"))
                .as("another sender's")
                .isTrue();

        deliveries.forget("web", "github", "d1");
        assertThat(deliveries.first("web", "github", "d1"))
                .as("forgotten: not handled after all")
                .isTrue();

        now.addAndGet(WebhookDeliveries.KEPT.toMillis() + 1);
        assertThat(deliveries.first("web", "github", "d2")).isTrue();
        int kept = db.withHandle(h -> h.select("SELECT COUNT(*) FROM webhook_deliveries")
                .mapTo(Integer.class)
                .one());
        assertThat(kept).as("older than a week: removed as new ones arrive").isEqualTo(1);
        assertThat(deliveries.first("web", "github", "d1")).isTrue();
    }

    @Test
    void tokensAreStoredHashedAndFoundBySecret() {
        Jdbi db = open();
        Tokens tokens = new Tokens(db);
        var created = tokens.create("admin", null, "test", null);
        assertThat(tokens.use(created.secret())).map(Tokens.Token::scope).contains("admin");
        assertThat(tokens.use("mf_wrong")).isEmpty();
        String stored = db.withHandle(
                h -> h.select("SELECT hash FROM tokens").mapTo(String.class).one());
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
