package io.mayfly.agent.deploy;

import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.process.ProcessDriver;
import io.mayfly.agent.driver.process.TestServer;
import io.mayfly.wire.manifest.Manifest;
import java.nio.file.Path;
import java.util.List;

/** The guest kinds on the process driver: testserver in the sandbox, behind pasta. */
class ProcessGuestKindsTest extends GuestKindsContract {
    @Override
    protected List<Driver> drivers(Path dir) throws Exception {
        return List.of(new ProcessDriver(dir.resolve("sandbox")));
    }

    @Override
    protected Manifest.Run run() {
        return Manifest.defaults("server").run();
    }

    @Override
    protected Path artifact() throws Exception {
        return TestServer.binary();
    }

    @Override
    protected List<String> serving() {
        return List.of("--port", "{port}");
    }
}
