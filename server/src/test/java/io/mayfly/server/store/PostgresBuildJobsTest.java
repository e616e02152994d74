package io.mayfly.server.store;

import org.jdbi.v3.core.Jdbi;

/** The build queue's claim on a real PostgreSQL server, where it skips rows other transactions hold. */
class PostgresBuildJobsTest extends BuildJobsTest {
    private final TestPostgres.PerTest database = new TestPostgres.PerTest();

    @Override
    Jdbi open() {
        return database.open();
    }
}
