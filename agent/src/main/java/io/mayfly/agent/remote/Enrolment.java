package io.mayfly.agent.remote;

import io.mayfly.wire.AgentViews;
import io.mayfly.wire.ArtifactSignatures;
import io.mayfly.wire.Json;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * This agent's registration with the server: whether it holds (a server that answers 401 or 404 forgot it, after a
 * new database, and it registers again), the key the server signs artifacts with, and the heartbeat it asked for.
 */
final class Enrolment {
    private final ServerApi api;
    private final AgentViews.Registration registration;
    private final String pinnedKey;
    private final Consumer<String> log;
    private final CountDownLatch registeredOnce = new CountDownLatch(1);
    private volatile byte[] signingKey;
    private volatile Duration heartbeat = Duration.ofSeconds(1);

    /** @param pinnedKey the fingerprint the server's signing key must have, or null to trust the key it gives */
    Enrolment(ServerApi api, AgentViews.Registration registration, String pinnedKey, Consumer<String> log) {
        this.api = api;
        this.registration = registration;
        this.pinnedKey = pinnedKey;
        this.log = log;
    }

    /** Whether the server knows this agent, as far as this agent has heard. */
    boolean registered() {
        return signingKey != null;
    }

    /** The server answered as if it never heard of this agent: the next round registers again. */
    void forget() {
        signingKey = null;
    }

    /** The key the server signs artifacts with; null until registered. */
    byte[] signingKey() {
        return signingKey;
    }

    /** How often the server wants to hear from this agent. */
    Duration heartbeat() {
        return heartbeat;
    }

    boolean awaitRegistered(Duration bound) throws InterruptedException {
        return registeredOnce.await(bound.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Registers (again); a server that places no instance on remote agents ends the following ({@link NoInstancesHere}). */
    void register() throws IOException, InterruptedException {
        HttpResponse<String> r = api.register(registration);
        if (r.statusCode() == 409) {
            throw new NoInstancesHere("the server at " + api.server()
                    + " runs its instances on its own embedded agent, so it places none on " + api.name()
                    + " (start it with --no-agent for that); this agent stops following it" + ": " + r.body());
        }
        ServerApi.require(r, "registering agent " + api.name());
        AgentViews.Registered registered = Json.read(r.body(), AgentViews.Registered.class);
        byte[] der = Base64.getDecoder().decode(registered.signingKey());
        if (pinnedKey != null && !pinnedKey.equals(ArtifactSignatures.fingerprint(der))) {
            throw new IOException("the server's signing key has fingerprint " + ArtifactSignatures.fingerprint(der)
                    + ", not the pinned " + pinnedKey + "; not trusting it");
        }
        heartbeat = Duration.ofMillis(Math.max(200, registered.heartbeatMillis()));
        signingKey = der;
        registeredOnce.countDown();
        log.accept("registered with " + api.server() + " as " + api.name() + " (drivers "
                + String.join(", ", registration.drivers()) + ")");
    }

    /** The server places no instance on remote agents (it runs with its embedded agent). */
    static final class NoInstancesHere extends RuntimeException {
        NoInstancesHere(String message) {
            super(message);
        }
    }
}
