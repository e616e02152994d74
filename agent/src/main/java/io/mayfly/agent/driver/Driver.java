package io.mayfly.agent.driver;

import java.util.Optional;
import java.util.Set;

/**
 * A way of running an instance (modelled on Nomad's task drivers): start it, and after an agent
 * restart re-adopt it from the state it persisted. Stopping and watching a running instance is the
 * job of its {@link InstanceHandle}.
 */
public interface Driver {

    /** The name used in {@code run.driver}: process, qemu, solo5-hvt, solo5-spt, xen, firecracker. */
    String name();

    /** Whether this driver can run instances on this host, and if not, why. Cheap after the first call. */
    Availability availability();

    /**
     * The placeholders of {@code run.args} this driver fills itself, because only it knows their values (a guest's
     * address on its tap) or gives them a meaning of its own ({@code port}: the port the guest listens on behind the
     * driver's forward). The agent fills the others ({@code {port}}, {@code {app}}, {@code {release}}) before
     * {@link #start}.
     */
    default Set<String> ownPlaceholders() {
        return Set.of();
    }

    /** Starts an instance. Returns once the instance's process exists; health is checked by the caller. */
    InstanceHandle start(InstanceSpec spec) throws DriverException;

    /**
     * Re-adopts an instance that was started before the agent restarted. Returns empty when the instance
     * is gone (its process exited, or the pid now belongs to another process).
     */
    Optional<InstanceHandle> recover(InstanceState state);

    /**
     * Forgets what the driver learnt about this host by running guests on it (QEMU: whether KVM really runs them), so
     * that the next start learns it again ({@code mayfly drivers --reprobe}). Most drivers learn nothing.
     */
    default void reprobe() throws java.io.IOException {}

    record Availability(boolean available, String detail) {
        public static Availability yes(String detail) {
            return new Availability(true, detail);
        }

        public static Availability no(String why) {
            return new Availability(false, why);
        }
    }
}
