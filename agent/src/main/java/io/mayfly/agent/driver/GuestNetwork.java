package io.mayfly.agent.driver;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One instance's network on the host, for the drivers whose guests sit on a tap (Solo5, Firecracker): its own
 * {@link Tap} with a /30 between host and guest, and a {@link PortForwarder} from {@code 127.0.0.1:PORT}, where the
 * router and the health checks connect, to the guest's port. It is recorded in the instance directory
 * ({@value #FILE}), so that a restarted agent forwards again, and removes the tap once the guest is gone.
 *
 * <p>The forwarder lives in the agent's process and ends with it; the tap is the host's and outlives the agent,
 * held by the guest's process. It is removed when the instance ends, never while its guest runs.
 */
public final class GuestNetwork {
    /** The record's name in the instance directory. */
    public static final String FILE = "network.json";

    /** What is recorded about an instance's network: its tap, and which loopback port goes to which guest port. */
    public record State(Tap tap, int port, int guestPort) {}

    private final TapDevices taps;
    private final State state;
    private final Path stateDir;
    private final Path logFile;
    private PortForwarder forwarder;
    private boolean closed;

    private GuestNetwork(TapDevices taps, State state, Path stateDir, Path logFile, PortForwarder forwarder) {
        this.taps = taps;
        this.state = state;
        this.stateDir = stateDir;
        this.logFile = logFile;
        this.forwarder = forwarder;
    }

    /**
     * Gives {@code spec}'s instance its network: records it, starts forwarding {@code 127.0.0.1:port} to
     * {@code guest:guestPort} and creates the tap. Nothing is left behind when a step fails.
     */
    public static GuestNetwork open(TapDevices taps, InstanceSpec spec) throws DriverException {
        Tap tap = Tap.forPort(spec.port());
        State state = new State(tap, spec.port(), spec.guestPort());
        Path file = spec.stateDir().resolve(FILE);
        try {
            // Recorded before the tap exists, so that an agent that dies in between still knows to remove it.
            InstanceStateFile.writeJson(file, state);
        } catch (IOException e) {
            throw new DriverException(
                    "cannot record the network of " + spec.id() + " in " + file + ": " + e.getMessage(), e);
        }
        // The port first: holding it is what makes the tap named after it this instance's, even against a start
        // that was handed the same port a moment ago.
        PortForwarder forwarder;
        try {
            forwarder = PortForwarder.start(loopback(spec.port()), guest(state));
        } catch (IOException e) {
            deleteQuietly(file);
            throw new DriverException(
                    "cannot listen on 127.0.0.1:" + spec.port() + ", the port picked for " + spec.id()
                            + ", to forward it to the guest: " + e.getMessage()
                            + " (another process took it in the meantime?); start it again",
                    e);
        }
        try {
            taps.create(tap);
        } catch (DriverException e) {
            forwarder.close();
            deleteQuietly(file);
            throw new DriverException("cannot give " + spec.id() + " its network: " + e.getMessage(), e);
        }
        GuestNetwork network = new GuestNetwork(taps, state, spec.stateDir(), spec.logFile(), forwarder);
        network.note(spec.id() + " is on tap " + tap.name() + ": host " + tap.hostCidr() + ", guest "
                + tap.guestAddress() + "; 127.0.0.1:" + spec.port() + " is forwarded to " + tap.guestAddress() + ":"
                + spec.guestPort());
        return network;
    }

    /**
     * After an agent restart, the network recorded in {@code stateDir} of an instance whose guest still runs,
     * forwarding again; empty when none was recorded. A forwarder that cannot listen is noted in the instance log
     * and the network is adopted without it, so that its tap is still removed in the end.
     */
    public static Optional<GuestNetwork> adopt(TapDevices taps, Path stateDir, Path logFile) {
        return read(stateDir, logFile).map(state -> {
            PortForwarder forwarder = null;
            try {
                forwarder = PortForwarder.start(loopback(state.port()), guest(state));
            } catch (IOException e) {
                VmHost.note(
                        logFile,
                        "cannot forward 127.0.0.1:" + state.port() + " to the guest again after the agent restarted ("
                                + e.getMessage() + "); the instance cannot be reached until it is restarted");
            }
            return new GuestNetwork(taps, state, stateDir, logFile, forwarder);
        });
    }

    /** After an agent restart, for an instance whose guest ended while no agent watched: removes the tap it recorded. */
    public static void removeLeftover(TapDevices taps, Path stateDir, Path logFile) {
        read(stateDir, logFile).ifPresent(state -> new GuestNetwork(taps, state, stateDir, logFile, null).close());
    }

    private static Optional<State> read(Path stateDir, Path logFile) {
        Path file = stateDir.resolve(FILE);
        if (!Files.exists(file)) return Optional.empty();
        try {
            return Optional.of(InstanceStateFile.readJson(file, State.class));
        } catch (IOException e) {
            VmHost.note(
                    logFile,
                    "cannot read " + file + " (" + e.getMessage()
                            + "); its tap device, if any, must be removed by hand (ip link)");
            return Optional.empty();
        }
    }

    public Tap tap() {
        return state.tap();
    }

    /** The guest's own address and port on its tap. */
    public InetSocketAddress guestAddress() {
        try {
            return guest(state);
        } catch (IOException e) {
            throw new IllegalStateException(
                    "the recorded guest address " + state.tap().guestAddress() + " is not an address", e);
        }
    }

    /** Whether 127.0.0.1:port is being forwarded to the guest. */
    public synchronized boolean forwarding() {
        return forwarder != null && !closed;
    }

    /**
     * The agent is going away and the guest stays: stops forwarding (the forwarder lives in the agent's process),
     * keeps the tap and the record for the next agent.
     */
    public synchronized void detach() {
        if (forwarder != null) forwarder.close();
        forwarder = null;
    }

    /**
     * The instance has ended: stops forwarding, removes the tap and the record. Problems go to the instance log;
     * a tap that cannot be removed keeps its record, so that the next agent tries again. Does nothing the second time.
     */
    public synchronized void close() {
        if (closed) return;
        closed = true;
        detach();
        try {
            taps.remove(state.tap());
            deleteQuietly(stateDir.resolve(FILE));
        } catch (DriverException e) {
            note(e.getMessage());
        }
    }

    private static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    private static InetSocketAddress guest(State state) throws IOException {
        // A literal address: no name lookup happens.
        return new InetSocketAddress(InetAddress.getByName(state.tap().guestAddress()), state.guestPort());
    }

    private void note(String line) {
        VmHost.note(logFile, line);
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a stale record only makes the next agent try to remove a tap that is already gone
        }
    }

    @Override
    public String toString() {
        return "tap " + state.tap().name() + " (guest " + state.tap().guestAddress() + ")";
    }
}
