package io.mayfly.agent.remote;

import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Follows this agent's desired state on the server into {@link LatestDesired}: the event stream, and polling with
 * back-off while the stream is down (or polling only, for hosts behind proxies that cut long responses), registering
 * first and again whenever the server has forgotten this agent.
 */
final class DesiredFeed implements Runnable {
    static final Duration FIRST_BACKOFF = Duration.ofMillis(250);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final ServerApi api;
    private final Enrolment enrolment;
    private final LatestDesired latest;
    private final boolean stream;
    private final Duration pollInterval;
    private final Consumer<String> log;
    private final Runnable stopFollowing;

    /**
     * @param stream        false: poll only, every {@code pollInterval}
     * @param stopFollowing run when the server places nothing on remote agents: the agent stops following it
     */
    DesiredFeed(
            ServerApi api,
            Enrolment enrolment,
            LatestDesired latest,
            boolean stream,
            Duration pollInterval,
            Consumer<String> log,
            Runnable stopFollowing) {
        this.api = api;
        this.enrolment = enrolment;
        this.latest = latest;
        this.stream = stream;
        this.pollInterval = pollInterval;
        this.log = log;
        this.stopFollowing = stopFollowing;
    }

    @Override
    public void run() {
        Duration backoff = FIRST_BACKOFF;
        while (!Thread.currentThread().isInterrupted()) {
            try {
                if (!enrolment.registered()) enrolment.register();
                if (stream) {
                    readStream(); // returns when the stream ends
                    backoff = FIRST_BACKOFF;
                } else {
                    poll();
                    Thread.sleep(pollInterval);
                    continue;
                }
            } catch (Enrolment.NoInstancesHere e) {
                log.accept(e.getMessage());
                stopFollowing.run();
                return;
            } catch (IOException e) {
                log.accept("the server at " + api.server() + " is not reachable (" + e.getMessage()
                        + "); polling every " + backoff.toMillis() + " ms until the stream is back");
            } catch (InterruptedException e) {
                return;
            }
            try {
                Thread.sleep(backoff);
                if (!enrolment.registered()) enrolment.register();
                poll();
            } catch (IOException ignored) {
                // still down: the next round tries the stream again, after a longer pause
            } catch (InterruptedException e) {
                return;
            }
            backoff = longer(backoff);
        }
    }

    /** The pause after {@code backoff} when the server is still away: twice as long, up to {@link #MAX_BACKOFF}. */
    static Duration longer(Duration backoff) {
        return backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    }

    private void poll() throws IOException, InterruptedException {
        HttpResponse<String> r = api.desired();
        if (r.statusCode() == 404 || r.statusCode() == 401) enrolment.forget(); // the server forgot us: register again
        ServerApi.require(r, "the desired state of " + api.name());
        latest.offer(Json.read(r.body(), AgentViews.DesiredState.class));
    }

    private void readStream() throws IOException, InterruptedException {
        HttpResponse<Stream<String>> r = api.desiredStream();
        if (r.statusCode() != 200) {
            r.body().close();
            if (r.statusCode() == 404 || r.statusCode() == 401) enrolment.forget();
            throw new IOException("the desired-state stream answered HTTP " + r.statusCode());
        }
        try (Stream<String> lines = r.body()) {
            ServerSentEvents events = new ServerSentEvents("desired");
            for (String line : (Iterable<String>) lines::iterator) {
                String data = events.line(line);
                if (data != null) latest.offer(Json.read(data, AgentViews.DesiredState.class));
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        throw new IOException("the desired-state stream ended");
    }
}
