package io.mayfly.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mayfly.wire.ConfigCipher;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/**
 * The store's journeys of {@link StoreTest} again on a real PostgreSQL server (same migrations, same SQL), and
 * what only matters there: several servers sharing one database.
 */
class PostgresStoreTest extends StoreTest {
    private final TestPostgres.PerTest database = new TestPostgres.PerTest();

    @Override
    Jdbi open() {
        return database.open();
    }

    @Override
    javax.sql.DataSource empty() {
        return Database.postgresqlDataSource(TestPostgres.newDatabase());
    }

    @Test
    void aServerStartingUpFailsOnlyItsOwnInterruptedWork() {
        Jdbi db = open();
        new Apps(db).create("a");
        Builds onA = new Builds(db, "server-a");
        Builds onB = new Builds(db, "server-b");
        onA.start("a", "git", "c1", "m", "make");
        onB.start("a", "git", "c2", "m", "make");
        onB.succeed("a", 2, 0, 1, "{}", List.of());
        Releases releasesOnA = new Releases(db, "server-a");
        releasesOnA.create("a", 2, "deploying on A", "t", "{}");
        onB.start("a", "git", "c3", "m", "make");

        assertThat(new Builds(open(), "server-a").failInterrupted()).isEqualTo(1);
        assertThat(new Releases(open(), "server-b").failInterrupted()).isZero();
        assertThat(onA.find("a", 1).orElseThrow().status()).isEqualTo(Builds.Status.failed);
        assertThat(onA.find("a", 3).orElseThrow().status())
                .as("B's build goes on")
                .isEqualTo(Builds.Status.running);
        assertThat(new Releases(open(), "server-a").failInterrupted()).isEqualTo(1);
    }

    @Test
    void aServerWithOtherKeysThanTheFirstRefusesToStartAndSaysWhichFilesToCopy() throws Exception {
        Jdbi db = open();
        java.nio.file.Files.createDirectories(dir.resolve("first"));
        java.nio.file.Files.createDirectories(dir.resolve("second"));
        ConfigCipher firstCipher = new ConfigCipher(dir.resolve("first/config.key"));
        SharedKeys.check(db, "sha256:aaaa", firstCipher, dir.resolve("first"));
        String sealed = firstCipher.seal(Map.of("K", "v"));
        new Apps(db).create("a");
        new AppConfig(db, firstCipher).putSealed("a", sealed);

        SharedKeys.check(open(), "sha256:aaaa", new ConfigCipher(dir.resolve("first/config.key")), dir.resolve("copy"));
        assertThatThrownBy(() -> SharedKeys.check(open(), "sha256:bbbb", firstCipher, dir.resolve("second")))
                .hasMessageContaining("signed with the key sha256:aaaa")
                .hasMessageContaining("sha256:bbbb")
                .hasMessageContaining("copy signing-key, signing-key.pub and config.key");
        assertThatThrownBy(() -> SharedKeys.check(
                        open(),
                        "sha256:aaaa",
                        new ConfigCipher(dir.resolve("second/config.key")),
                        dir.resolve("second")))
                .hasMessageContaining("sealed with another key")
                .hasMessageContaining("second/config.key");
        assertThat(new AppConfig(open(), firstCipher).get("a")).containsEntry("K", "v");
    }

    @Test
    void aWrongUrlOrAnUnreachableServerIsAClearErrorWithoutThePassword() {
        assertThatThrownBy(() -> Database.open("mysql://x/y", dir))
                .hasMessageContaining("postgresql://USER:PASSWORD@HOST:PORT/DBNAME");
        assertThatThrownBy(() -> Database.open("postgresql://me:s3cret@127.0.0.1:1/mayfly", dir))
                .hasMessageContaining("cannot use the PostgreSQL database postgresql://me:***@127.0.0.1:1/mayfly")
                .hasMessageNotContaining("s3cret");
    }
}
