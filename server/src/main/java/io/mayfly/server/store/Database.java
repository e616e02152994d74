package io.mayfly.server.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * Opens the database and brings its schema up to date with the versioned migrations in db/migration, which are
 * written once in SQL that SQLite and PostgreSQL both run.
 */
public final class Database {
    private Database() {}

    /**
     * The database {@code url} names, or the embedded SQLite file in {@code data} when it is null:
     * {@code postgresql://USER:PASSWORD@HOST:PORT/DBNAME[?sslmode=...]} (or {@code postgres://}).
     */
    public static Jdbi open(String url, Path data) {
        if (url == null || url.isBlank()) return sqlite(data.resolve("mayfly.db"));
        if (url.startsWith("postgresql://") || url.startsWith("postgres://")) return postgresql(url);
        throw new IllegalArgumentException(
                "--db '" + redact(url) + "' is not a database Mayfly knows: give "
                        + "postgresql://USER:PASSWORD@HOST:PORT/DBNAME, or leave --db out for the embedded SQLite file in the data directory");
    }

    /**
     * The embedded default: one SQLite file in the data directory, WAL-journalled so readers never block the writer,
     * through a small pool of connections.
     */
    public static Jdbi sqlite(Path file) {
        return migrate(sqliteDataSource(file));
    }

    static DataSource sqliteDataSource(Path file) {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        config.enforceForeignKeys(true);
        config.setBusyTimeout(30_000);
        // A transaction takes the write lock when it begins, not at its first write: a deferred one that read first
        // cannot wait for the lock (that could deadlock) and fails at once with SQLITE_BUSY when another writes.
        config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        SQLiteDataSource ds = new SQLiteDataSource(config);
        ds.setUrl("jdbc:sqlite:" + file.toAbsolutePath());
        // Pooled: opening a SQLite connection (the file, then every pragma above) cost more than most queries here.
        HikariConfig pool = new HikariConfig();
        pool.setDataSource(ds);
        pool.setPoolName("mayfly-sqlite");
        pool.setMaximumPoolSize(8);
        pool.setMinimumIdle(1);
        pool.setIdleTimeout(60_000);
        pool.setConnectionTimeout(30_000);
        return new HikariDataSource(pool);
    }

    /** PostgreSQL through a small connection pool; several servers may share it. */
    static Jdbi postgresql(String url) {
        try {
            return migrate(postgresqlDataSource(url));
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IllegalStateException(
                    "cannot use the PostgreSQL database " + redact(url) + ": " + rootMessage(e)
                            + "; check that the server is running, that the database exists (createdb) and that the user may create tables in it",
                    e);
        }
    }

    static DataSource postgresqlDataSource(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(
                    "--db '" + redact(url) + "' is not a URL: " + e.getReason()
                            + "; expected postgresql://USER:PASSWORD@HOST:PORT/DBNAME",
                    e);
        }
        if (uri.getHost() == null || uri.getPath() == null || uri.getPath().length() < 2) {
            throw new IllegalArgumentException("--db '" + redact(url)
                    + "' names no host or database; expected postgresql://USER:PASSWORD@HOST:PORT/DBNAME");
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:postgresql://" + uri.getHost() + ":" + (uri.getPort() > 0 ? uri.getPort() : 5432)
                + uri.getPath() + (uri.getRawQuery() != null ? "?" + uri.getRawQuery() : ""));
        if (uri.getRawUserInfo() != null) {
            String[] userInfo = uri.getRawUserInfo().split(":", 2);
            config.setUsername(URLDecoder.decode(userInfo[0], StandardCharsets.UTF_8));
            if (userInfo.length == 2) config.setPassword(URLDecoder.decode(userInfo[1], StandardCharsets.UTF_8));
        }
        config.setPoolName("mayfly-db");
        config.setMaximumPoolSize(16);
        // Grown on demand: several servers (and agents' build claims through them) share PostgreSQL's max_connections.
        config.setMinimumIdle(2);
        config.setConnectionTimeout(10_000);
        // Fail at start, with the reason, rather than at the first request.
        config.setInitializationFailTimeout(10_000);
        return new HikariDataSource(config);
    }

    static Jdbi migrate(DataSource ds) {
        migrate(ds, "latest");
        return Jdbi.create(ds);
    }

    /** Brings the schema up to {@code version} ("latest": all of db/migration); a test starts from an older one this way. */
    static void migrate(DataSource ds, String version) {
        Flyway.configure()
                .dataSource(ds)
                .locations("classpath:db/migration")
                .outOfOrder(true)
                .target(version)
                .load()
                .migrate();
    }

    /**
     * Within a transaction, waits until no other transaction (of this server or another sharing the database)
     * holds the same app, so that numbering its next build or release cannot collide. SQLite runs one writer at
     * a time already; PostgreSQL locks the app's row until the transaction ends.
     */
    static void lockApp(Handle h, String app) {
        if (isPostgresql(h))
            h.select("SELECT name FROM apps WHERE name = ? FOR UPDATE", app)
                    .mapTo(String.class)
                    .findOne();
    }

    static boolean isPostgresql(Handle h) {
        try {
            return "PostgreSQL".equals(h.getConnection().getMetaData().getDatabaseProductName());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot tell which database this is: " + e.getMessage(), e);
        }
    }

    /** The URL without its password, for messages and logs. */
    public static String redact(String url) {
        return url.replaceAll("(://[^:/@]*:)[^@]*@", "$1***@");
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
