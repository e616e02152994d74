package io.mayfly.agent;

import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.firecracker.FirecrackerDriver;
import io.mayfly.agent.driver.process.ProcessDriver;
import io.mayfly.agent.driver.qemu.QemuDriver;
import io.mayfly.agent.driver.solo5.Solo5Driver;
import io.mayfly.agent.driver.xen.XenDriver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Every driver a host offers. Each says by itself whether it can run here, and why not ({@code mayfly drivers}). */
public final class Drivers {
    private Drivers() {}

    /** Every driver, keeping what it must keep on this host (the sandbox's seccomp program, ...) under {@code stateDir}. */
    public static List<Driver> all(Path stateDir) throws IOException {
        return List.of(
                new ProcessDriver(stateDir.resolve("sandbox")),
                new QemuDriver(stateDir.resolve("qemu")),
                new Solo5Driver(Solo5Driver.Tender.HVT),
                new Solo5Driver(Solo5Driver.Tender.SPT),
                new XenDriver(),
                new FirecrackerDriver());
    }
}
