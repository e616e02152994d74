package io.mayfly.server.hosts;

import io.mayfly.server.registry.SigningKey;
import io.mayfly.server.store.Agents;
import io.mayfly.server.store.AppConfig;
import io.mayfly.server.store.Builds;
import io.mayfly.server.store.Formation;
import io.mayfly.server.store.Releases;
import io.mayfly.server.target.BootArguments;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.StoredManifest;
import io.mayfly.wire.manifest.Manifest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each agent must run, its desired state: for every app placed on it, the release being deployed (the app's
 * target) or else the live one, with its artifacts signed and its config filled in. Sent again to the agent's event
 * stream at every change, made here or (seen through the database's change stamp) by another server sharing it.
 */
public final class DesiredStates {
    private static final Logger log = LoggerFactory.getLogger(DesiredStates.class);

    private final Agents agents;
    private final Releases releases;
    private final Builds builds;
    private final Formation formation;
    private final AppConfig config;
    private final SigningKey signingKey;
    private final String embedded;
    private final String serverId;
    private final AtomicLong generation = new AtomicLong(System.currentTimeMillis());
    private final Map<String, List<Consumer<AgentViews.DesiredState>>> listeners = new ConcurrentHashMap<>();
    private volatile Supplier<List<String>> appNames;
    private volatile String lastStamp;

    DesiredStates(
            Agents agents,
            Releases releases,
            Builds builds,
            Formation formation,
            AppConfig config,
            SigningKey signingKey,
            String embedded,
            String serverId) {
        this.agents = agents;
        this.releases = releases;
        this.builds = builds;
        this.formation = formation;
        this.config = config;
        this.signingKey = signingKey;
        this.embedded = embedded;
        this.serverId = serverId;
    }

    /** What the agent must run now: for every app placed on it, the release being deployed or else the live one. */
    public AgentViews.DesiredState desired(String agent) {
        List<AgentViews.Assignment> assignments = new ArrayList<>();
        for (String app : agents.appsOn(agent)) {
            Optional<Agents.Target> target = agents.target(app);
            // This server's embedded agent follows a deploy another server sharing the database runs as it would a
            // release gone live elsewhere: nobody here waits for it, so it switches by itself and says so in the log.
            boolean deploying = target.isPresent()
                    && !(agent.equals(embedded)
                            && target.get().server() != null
                            && !serverId.equals(target.get().server()));
            releaseFor(app, target)
                    .flatMap(r -> assignment(
                            r, deploying, target.map(Agents.Target::test).orElse(false)))
                    .ifPresent(assignments::add);
        }
        Supplier<List<String>> apps = appNames;
        return new AgentViews.DesiredState(
                agent, generation.get(), assignments, agent.equals(embedded) && apps != null ? apps.get() : List.of());
    }

    /** The embedded agent's router knows every app of {@code names}, released or not (a new app answers 503, not 404). */
    void declaring(Supplier<List<String>> names) {
        appNames = names;
    }

    /** The release the app's agent must run: the one being deployed (its target), or else the live one. */
    private Optional<Releases.Release> releaseFor(String app, Optional<Agents.Target> target) {
        return target.isPresent() ? releases.find(app, target.get().version()) : releases.live(app);
    }

    /** Whether {@code sha256} is an artifact of something the agent must run (what its token may download). */
    public boolean assigned(String agent, String sha256) {
        // The releases of its desired state, without making the whole of it (no signatures, no config to open).
        for (String app : agents.appsOn(agent)) {
            Optional<Releases.Release> release = releaseFor(app, agents.target(app));
            if (release.flatMap(r -> manifest(r).map(m -> booted(r, m))).orElse(List.of()).stream()
                    .anyMatch(a -> a.sha256().equals(sha256))) {
                return true;
            }
        }
        return false;
    }

    /** Calls {@code listener} with the agent's desired state now and at every change, until the returned handle is run. */
    public Runnable subscribe(String agent, Consumer<AgentViews.DesiredState> listener) {
        List<Consumer<AgentViews.DesiredState>> list =
                listeners.computeIfAbsent(agent, a -> new CopyOnWriteArrayList<>());
        list.add(listener);
        listener.accept(desired(agent));
        return () -> list.remove(listener);
    }

    /** The agent's desired state changed: it is sent to the agent's event streams. */
    void changed(String agent) {
        generation.incrementAndGet();
        List<Consumer<AgentViews.DesiredState>> list = listeners.get(agent);
        if (list == null || list.isEmpty()) return;
        AgentViews.DesiredState state = desired(agent);
        list.forEach(l -> l.accept(state));
    }

    private Optional<AgentViews.Assignment> assignment(Releases.Release release, boolean deploying, boolean test) {
        Optional<Manifest> parsed = manifest(release);
        if (parsed.isEmpty()) return Optional.empty();
        Manifest manifest = parsed.get();
        List<AgentViews.AssignedArtifact> artifacts = booted(release, manifest).stream()
                .map(a -> new AgentViews.AssignedArtifact(a.name(), a.sha256(), signingKey.signArtifact(a.sha256())))
                .toList();
        // None (its build is gone): the agent says it cannot run it, and keeps what it runs rather than stopping it.
        Map<String, String> vars = config.cipher().open(release.config());
        List<String> args = manifest.run().args().stream()
                .map(a -> BootArguments.fill(a, vars))
                .toList();
        int instances =
                formation.instances(release.app()).orElse(manifest.run().instances()); // 0: the agent scales it to zero
        return Optional.of(new AgentViews.Assignment(
                release.app(),
                release.version(),
                release.manifest(),
                args,
                vars,
                artifacts,
                instances,
                deploying,
                test,
                StoredManifest.write(manifest)));
    }

    private static Optional<Manifest> manifest(Releases.Release release) {
        if (release.spec() == null)
            log.error("the stored manifest of {} v{} does not parse", release.app(), release.version());
        return Optional.ofNullable(release.spec());
    }

    /** The artifacts an agent boots a release from, the boot image first: its main artifact, then its initrd if any. */
    private List<Builds.Artifact> booted(Releases.Release release, Manifest manifest) {
        return builds.find(release.app(), release.build())
                .map(b -> java.util.stream.Stream.of(
                                b.main(manifest.build().artifact()),
                                Optional.ofNullable(manifest.build().initrd()).flatMap(b::artifact))
                        .flatMap(Optional::stream)
                        .toList())
                .orElse(List.of());
    }

    /**
     * When another server sharing the database changed what some agent must run (a release went live or failed
     * there, a scale, a placement), the agents following this server hear of it within a heartbeat: their desired
     * state is sent again, and each agent acts only on what differs from what it runs.
     */
    void resync() {
        String stamp = agents.changeStamp();
        if (stamp.equals(lastStamp)) return;
        boolean first = lastStamp == null;
        lastStamp = stamp;
        if (first) return; // what the agents have was made from this state
        listeners.forEach((agent, list) -> {
            if (!list.isEmpty()) changed(agent);
        });
    }
}
