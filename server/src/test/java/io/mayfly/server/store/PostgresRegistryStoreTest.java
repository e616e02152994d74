package io.mayfly.server.store;

import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;

/** The registry's queries of {@link RegistryStoreTest} again on a real PostgreSQL server. */
class PostgresRegistryStoreTest extends RegistryStoreTest {
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
