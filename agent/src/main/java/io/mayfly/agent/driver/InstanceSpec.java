package io.mayfly.agent.driver;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Everything a driver needs to start one instance.
 *
 * @param id        unique instance id, e.g. {@code hello-v3-a1b2}
 * @param app       the app's name
 * @param release   the release number this instance runs
 * @param artifact  the boot image, already verified against its sha256
 * @param initrd    an optional initrd (VM drivers), or null
 * @param args      arguments with placeholders already filled in
 * @param env       environment variables for the instance (PORT is always set)
 * @param memoryBytes memory limit
 * @param port      the loopback port the agent assigned; the instance must serve HTTP on it
 * @param guestPort the port the guest listens on inside a VM (VM drivers forward port to it)
 * @param logFile   where the console goes (appended)
 * @param stateDir  a directory private to this instance where the driver keeps its state and scratch files
 * @param vcpus     virtual CPUs (VM drivers)
 * @param network   whether the instance may connect out ({@code [run] network}); it is reached on its port either way
 */
public record InstanceSpec(
        String id,
        String app,
        int release,
        Path artifact,
        Path initrd,
        List<String> args,
        Map<String, String> env,
        long memoryBytes,
        int port,
        int guestPort,
        Path logFile,
        Path stateDir,
        Duration stopGrace,
        int vcpus,
        boolean network) {
    public InstanceSpec(
            String id,
            String app,
            int release,
            Path artifact,
            Path initrd,
            List<String> args,
            Map<String, String> env,
            long memoryBytes,
            int port,
            int guestPort,
            Path logFile,
            Path stateDir,
            Duration stopGrace) {
        this(
                id,
                app,
                release,
                artifact,
                initrd,
                args,
                env,
                memoryBytes,
                port,
                guestPort,
                logFile,
                stateDir,
                stopGrace,
                1,
                true);
    }
}
