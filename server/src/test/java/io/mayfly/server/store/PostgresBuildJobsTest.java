package io.mayfly.server.store;

import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;

/** The build queue's claim on a real PostgreSQL server, where it skips rows other transactions hold. */
class PostgresBuildJobsTest extends BuildJobsTest {
    private String url;

    @BeforeEach
    void newDatabase() {
        url = TestPostgres.newDatabase();
    }

    @Override
    Jdbi open() {
        return TestPostgres.open(url);
    }
}
