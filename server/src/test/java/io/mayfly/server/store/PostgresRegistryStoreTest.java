package io.mayfly.server.store;

import org.jdbi.v3.core.Jdbi;

/** The registry's queries of {@link RegistryStoreTest} again on a real PostgreSQL server. */
class PostgresRegistryStoreTest extends RegistryStoreTest {
    private final TestPostgres.PerTest database = new TestPostgres.PerTest();

    @Override
    Jdbi open() {
        return database.open();
    }
}
