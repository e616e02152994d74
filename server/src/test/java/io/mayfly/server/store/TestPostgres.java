package io.mayfly.server.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jdbi.v3.core.Jdbi;

/**
 * A real PostgreSQL server (the binaries of io.zonky.test.postgres, from Maven Central) on a free loopback port,
 * started once for the test JVM; each test gets a database of its own.
 */
public final class TestPostgres {
    private static EmbeddedPostgres server;
    private static final AtomicInteger DATABASES = new AtomicInteger();

    private TestPostgres() {}

    private static synchronized EmbeddedPostgres server() {
        if (server == null) {
            try {
                server = EmbeddedPostgres.builder().start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start the embedded PostgreSQL server", e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    server.close();
                } catch (IOException ignored) {
                    // the JVM is going away
                }
            }));
        }
        return server;
    }

    /** Creates an empty database and returns its {@code postgresql://} URL, as a user gives it to --db. */
    public static String newDatabase() {
        String name = "mayfly_test_" + DATABASES.incrementAndGet();
        try (Connection c = server().getPostgresDatabase().getConnection()) {
            c.createStatement().execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name, e);
        }
        return "postgresql://postgres:unused@127.0.0.1:" + server().getPort() + "/" + name;
    }

    public static Jdbi open(String url) {
        return Database.open(url, null);
    }

    /**
     * The database of one test: made at its first {@link #open}, the same one at every later call. A field of the
     * test class, which JUnit creates anew for each test, so each test gets a database of its own.
     */
    public static final class PerTest {
        private String url;

        public synchronized Jdbi open() {
            if (url == null) url = newDatabase();
            return TestPostgres.open(url);
        }
    }
}
