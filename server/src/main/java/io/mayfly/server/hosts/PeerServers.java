package io.mayfly.server.hosts;

import io.mayfly.server.store.Agents;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The other servers sharing the database: an agent follows one server, while the deploy it runs may be waited for
 * on another (where the push came in). What the agent sends about that deploy is passed on to that server.
 */
final class PeerServers {
    private static final Logger log = LoggerFactory.getLogger(PeerServers.class);

    private final Agents agents;
    private final String serverId;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    PeerServers(Agents agents, String serverId) {
        this.agents = agents;
        this.serverId = serverId;
    }

    /** The API address of the other server waiting for this deploy, if one does. */
    Optional<String> waitingServer(String app, int version) {
        return agents.target(app)
                .filter(t -> t.version() == version && t.server() != null && !serverId.equals(t.server()))
                .flatMap(t -> agents.serverUrl(t.server()));
    }

    /** Passes an agent's request on to another server sharing the database; empty if it cannot be reached. */
    Optional<HttpResponse<String>> forward(String server, String path, String authorization, String body)
            throws InterruptedException {
        try {
            return Optional.of(http.send(
                    HttpRequest.newBuilder(URI.create(server + path))
                            .timeout(Duration.ofMinutes(30))
                            .header("Authorization", authorization == null ? "" : authorization)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body))
                            .build(),
                    HttpResponse.BodyHandlers.ofString()));
        } catch (IOException | IllegalArgumentException e) {
            log.warn("cannot pass an agent's request on to {}{}: {}", server, path, e.toString());
            return Optional.empty();
        }
    }
}
