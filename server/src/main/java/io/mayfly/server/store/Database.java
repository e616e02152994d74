package io.mayfly.server.store;

import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Jdbi;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

import javax.sql.DataSource;
import java.nio.file.Path;

/** Opens the database and brings its schema up to date with the versioned migrations in db/migration. */
public final class Database {
    private Database() {}

    /** The embedded default: one SQLite file in the data directory, WAL-journalled so readers never block the writer. */
    public static Jdbi sqlite(Path file) {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        config.enforceForeignKeys(true);
        config.setBusyTimeout(30_000);
        SQLiteDataSource ds = new SQLiteDataSource(config);
        ds.setUrl("jdbc:sqlite:" + file.toAbsolutePath());
        return migrate(ds);
    }

    static Jdbi migrate(DataSource ds) {
        Flyway.configure().dataSource(ds).locations("classpath:db/migration").outOfOrder(true).load().migrate();
        return Jdbi.create(ds);
    }
}
