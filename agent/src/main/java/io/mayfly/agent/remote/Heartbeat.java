package io.mayfly.agent.remote;

import io.mayfly.agent.Agent;
import io.mayfly.agent.Standby;
import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.router.Router;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Json;
import io.mayfly.wire.Version;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * What this agent tells the server, every heartbeat and at once after a deploy: its instances, the deploy reports,
 * console output and events the server has not acknowledged yet (they go again until it does), what its router
 * served and what its drivers say of the host. The server's answer may ask drivers to forget what they learnt.
 */
final class Heartbeat implements Runnable {
    private final ServerApi api;
    private final Enrolment enrolment;
    private final Agent agent;
    private final Consumer<String> log;
    private final ConsoleShipper console;
    /** Deploy results not yet delivered to the server (it may be down): sent with every heartbeat until one succeeds. */
    private final List<AgentViews.DeployReport> unsent = new ArrayList<>();

    private final PendingEvents events = new PendingEvents();
    private final ResidentMemory memory = new ResidentMemory();
    private volatile boolean shipConsole = true;
    private volatile MeterRegistry routerMetrics;

    Heartbeat(ServerApi api, Enrolment enrolment, Agent agent, Consumer<String> log) {
        this.api = api;
        this.enrolment = enrolment;
        this.agent = agent;
        this.log = log;
        this.console = new ConsoleShipper(agent);
    }

    void shipConsole(boolean ship) {
        shipConsole = ship;
    }

    void reportRequests(MeterRegistry metrics) {
        routerMetrics = metrics;
    }

    void event(String app, String line) {
        events.add(new AgentViews.AppEvent(app, line));
    }

    /** A deploy's result: sent now, on a thread of its own, and with every heartbeat until the server has it. */
    void report(AgentViews.DeployReport deploy) {
        synchronized (unsent) {
            unsent.add(deploy);
        }
        Thread.ofVirtual().start(this::send);
    }

    @Override
    public void run() {
        while (!Thread.currentThread().isInterrupted()) {
            send();
            try {
                Thread.sleep(enrolment.heartbeat());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void send() {
        if (!enrolment.registered()) return;
        List<AgentViews.DeployReport> deploys;
        synchronized (unsent) {
            deploys = List.copyOf(unsent);
        }
        List<AgentViews.ConsoleChunk> chunks = shipConsole ? console.chunks() : List.of();
        List<AgentViews.AppEvent> happened = events.all();
        try {
            HttpResponse<String> r = api.status(new AgentViews.Status(
                    instances(), deploys, chunks, requestTotals(), happened, driverDetails(), Version.CURRENT));
            if (r.statusCode() == 404) enrolment.forget(); // not registered there (a new database): register again
            if (r.statusCode() / 100 == 2) {
                if (!r.body().isBlank())
                    reprobe(Json.read(r.body(), AgentViews.StatusAnswer.class).reprobe());
                synchronized (unsent) {
                    unsent.removeAll(deploys);
                }
                console.acknowledged(chunks);
                events.acknowledged(happened.size());
            }
        } catch (IOException e) {
            // the server is away; the next heartbeat tries again, and the reports wait
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private List<AgentViews.InstanceReport> instances() {
        List<io.mayfly.agent.Instance> all = agent.instances();
        memory.keepOnly(all.stream().map(io.mayfly.agent.Instance::id).collect(java.util.stream.Collectors.toSet()));
        return all.stream()
                .map(i -> {
                    Optional<Standby> window = agent.standby(i.app());
                    boolean standing = window.map(w -> w.previous().contains(i)).orElse(false);
                    boolean watched = window.map(w -> w.fresh().contains(i)).orElse(false);
                    return new AgentViews.InstanceReport(
                            i.id(),
                            i.app(),
                            i.release(),
                            i.driver(),
                            agent.isRouted(i),
                            i.handle().isAlive(),
                            i.port(),
                            i.state().pid(),
                            i.state().startedAt(),
                            i.restarts(),
                            standing || watched ? window.get().until() : null,
                            standing,
                            memory.of(i.id(), i.state().pid(), i.handle().isAlive()));
                })
                .toList();
    }

    /** What each available driver says of this host now (QEMU: KVM or TCG, and why), for {@code mayfly drivers}. */
    private Map<String, String> driverDetails() {
        Map<String, String> details = new LinkedHashMap<>();
        agent.drivers().forEach((name, driver) -> {
            Driver.Availability a = driver.availability();
            if (a.available()) details.put(name, a.detail());
        });
        return details;
    }

    /** {@code mayfly drivers --reprobe}, passed on by the server: these drivers forget what they learnt about this host. */
    private void reprobe(List<String> drivers) {
        if (drivers == null) return;
        for (String name : drivers) {
            Driver driver = agent.drivers().get(name);
            if (driver == null) continue;
            try {
                driver.reprobe();
                log.accept(
                        "driver " + name
                                + ": forgot what it learnt about this host, as the server asked; the next boot learns it again");
            } catch (IOException e) {
                log.accept("driver " + name + ": cannot forget what it learnt about this host: " + e.getMessage());
            }
        }
    }

    private List<AgentViews.RequestTotals> requestTotals() {
        var metrics = routerMetrics;
        if (metrics == null) return List.of();
        return metrics.find(Router.REQUESTS).timers().stream()
                .filter(t -> t.getId().getTag("app") != null)
                .map(t -> new AgentViews.RequestTotals(
                        t.getId().getTag("app"), t.count(), t.totalTime(TimeUnit.MILLISECONDS)))
                .toList();
    }
}
