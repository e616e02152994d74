package io.mayfly.server.hosts;

import static io.mayfly.server.http.Answers.json;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.mayfly.server.build.BuildQueue;
import io.mayfly.server.http.Access;
import io.mayfly.server.http.ApiError;
import io.mayfly.server.http.RequestBodies;
import io.mayfly.server.store.ContentAddressedBlobs;
import io.mayfly.server.store.Tokens;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Json;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The HTTP side of remote agents, each acting under its own agent token: register ({@code POST
 * /api/v1/agents/{name}}), follow the desired state ({@code GET .../desired}: server-sent events, or one JSON
 * document for agents polling while the stream is down), report ({@code POST .../status}), and fetch the blobs of
 * what it must run ({@code GET .../blobs/{sha256}}); during a deploy it shows what it says in the push ({@code POST
 * .../lines}) and has the server run the release's staged test ({@code POST .../tests}). {@code GET /api/v1/agents}
 * lists them (admin). The server's own embedded agent takes the same path; a server running one places no instance
 * on remote agents and answers their registration 409.
 *
 * <p>Build workers, under the same tokens: claim a queued build ({@code POST /api/v1/workers/{name}/claim}, held
 * open until one is queued), fetch its checkout ({@code GET .../jobs/{id}/source}), stream its output ({@code POST
 * .../log}), upload the files it left ({@code PUT .../outputs?path=P}) and report how it ended ({@code POST .../result}).
 */
public final class AgentRoutes {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    /** A comment line this often keeps proxies and the agent's read timeout from closing an idle stream. */
    private static final Duration KEEPALIVE = Duration.ofSeconds(10);

    /** How long a worker's claim is held open waiting for a build to be queued. */
    private static final Duration CLAIM_WAIT = Duration.ofSeconds(20);

    private final Access access;
    private final RemoteHosts hosts;
    private final BuildQueue builds;
    private final ContentAddressedBlobs blobs;
    private final long maxOutputBytes;

    /** @param maxOutputBytes the largest file a build worker may send back (mayfly server --max-upload, as for uploads) */
    public AgentRoutes(
            Access access, RemoteHosts hosts, BuildQueue builds, ContentAddressedBlobs blobs, long maxOutputBytes) {
        this.access = access;
        this.maxOutputBytes = maxOutputBytes;
        this.hosts = hosts;
        this.builds = builds;
        this.blobs = blobs;
    }

    public void register(JavalinConfig config) {
        var r = config.routes;
        r.get("/api/v1/agents", ctx -> {
            access.require(ctx.attribute(Access.TOKEN), Access.Need.admin, null);
            json(ctx, 200, hosts.views().agents());
        });
        r.get("/api/v1/workers", ctx -> {
            access.require(ctx.attribute(Access.TOKEN), Access.Need.admin, null);
            json(ctx, 200, builds.workers());
        });
        r.post("/api/v1/workers/{name}/claim", ctx -> {
            String name = agent(ctx);
            var job = builds.claim(name, CLAIM_WAIT);
            if (job.isPresent()) json(ctx, 200, job.get());
            else ctx.status(204);
        });
        r.get("/api/v1/workers/{name}/jobs/{id}/source", ctx -> {
            Path zip = builds.source(agent(ctx), ctx.pathParam("id"));
            ctx.contentType("application/zip").header("Content-Length", Long.toString(Files.size(zip)));
            try (InputStream in = Files.newInputStream(zip)) {
                in.transferTo(ctx.outputStream());
            }
        });
        r.post("/api/v1/workers/{name}/jobs/{id}/log", ctx -> {
            builds.log(agent(ctx), ctx.pathParam("id"), ctx.body());
            ctx.status(204);
        });
        r.put("/api/v1/workers/{name}/jobs/{id}/outputs", ctx -> {
            String path = ctx.queryParam("path");
            if (path == null) throw ApiError.badRequest("say which file with ?path=", null);
            String worker = agent(ctx);
            try (InputStream body = RequestBodies.limited(ctx.req().getInputStream(), maxOutputBytes)) {
                builds.output(worker, ctx.pathParam("id"), path, body);
            } catch (RequestBodies.TooLarge e) {
                throw new ApiError(
                        413,
                        "the build output " + path + " is larger than this server takes (at most "
                                + RequestBodies.human(maxOutputBytes) + "); nothing was stored",
                        "raise it with mayfly server --max-upload, or build a smaller image");
            }
            ctx.status(204);
        });
        r.post("/api/v1/workers/{name}/jobs/{id}/result", ctx -> {
            builds.finish(agent(ctx), ctx.pathParam("id"), Json.readBody(ctx.body(), AgentViews.BuildJobResult.class));
            ctx.status(204);
        });
        r.post("/api/v1/agents/{name}", ctx -> {
            String name = agent(ctx);
            if (hosts.embedded() != null && !hosts.embedded().equals(name)) {
                throw new ApiError(
                        409,
                        "this server runs its instances on its embedded agent; none is placed on agent " + name,
                        "start the server with --no-agent to run instances on agents; this agent can still build (--builds)");
            }
            AgentViews.Registration body = Json.readBody(ctx.body(), AgentViews.Registration.class);
            if (body.drivers() == null || body.drivers().isEmpty()) {
                throw ApiError.badRequest(
                        "agent " + name + " offers no driver",
                        "an agent registers the drivers that can run on its host");
            }
            json(ctx, 200, hosts.reports().register(name, body));
        });
        r.post("/api/v1/agents/{name}/status", ctx -> {
            String name = agent(ctx);
            requireHosts(name);
            if (!hosts.reports().report(name, Json.readBody(ctx.body(), AgentViews.Status.class))) {
                throw ApiError.notFound(
                        "agent " + name + " is not registered", "register first: POST /api/v1/agents/" + name);
            }
            json(ctx, 200, hosts.reports().answer(name));
        });
        r.get("/api/v1/agents/{name}/desired", ctx -> {
            String name = agent(ctx);
            requireHosts(name);
            String accept = ctx.header("Accept");
            if (accept != null && accept.contains("text/event-stream")) {
                stream(ctx, name);
                return;
            }
            AgentViews.DesiredState state = hosts.desired().desired(name);
            json(ctx, 200, state);
        });
        r.post("/api/v1/agents/{name}/lines", ctx -> {
            String name = agent(ctx);
            requireHosts(name);
            boolean shown = hosts.waits()
                    .lines(name, Json.readBody(ctx.body(), AgentViews.DeployLines.class), ctx.header("Authorization"));
            ctx.status(shown ? 204 : 410);
        });
        r.post("/api/v1/agents/{name}/tests", ctx -> {
            String name = agent(ctx);
            requireHosts(name);
            json(
                    ctx,
                    200,
                    hosts.waits()
                            .test(
                                    name,
                                    ctx.req().getRemoteAddr(),
                                    Json.readBody(ctx.body(), AgentViews.StagedTestRequest.class),
                                    ctx.header("Authorization")));
        });
        r.get("/api/v1/agents/{name}/blobs/{sha256}", ctx -> {
            String name = agent(ctx);
            requireHosts(name);
            String sha256 = ctx.pathParam("sha256");
            if (!hosts.desired().assigned(name, sha256)) {
                throw ApiError.notFound(
                        "sha256:" + sha256 + " is not an artifact of anything agent " + name + " must run", null);
            }
            Path file = blobs.verify(sha256);
            ctx.contentType("application/octet-stream").header("Content-Length", Long.toString(Files.size(file)));
            try (InputStream in = Files.newInputStream(file)) {
                in.transferTo(ctx.outputStream());
            }
        });
    }

    /** Holds the request open and writes a {@code desired} event now and at every change, until the agent goes away. */
    private void stream(Context ctx, String name) throws Exception {
        BlockingQueue<AgentViews.DesiredState> changes = new LinkedBlockingQueue<>();
        ctx.status(200)
                .contentType("text/event-stream")
                .header("Cache-Control", "no-cache")
                .header("X-Accel-Buffering", "no");
        var out = ctx.res().getOutputStream();
        Runnable unsubscribe = hosts.desired().subscribe(name, changes::add);
        try {
            long lastWrite = System.nanoTime();
            while (!hosts.closed()) {
                AgentViews.DesiredState next = changes.poll(1, TimeUnit.SECONDS);
                AgentViews.DesiredState latest = next;
                while ((next = changes.poll()) != null) latest = next; // only the newest state matters
                String frame;
                if (latest != null) frame = "event: desired\ndata: " + Json.write(latest) + "\n\n";
                else if (System.nanoTime() - lastWrite > KEEPALIVE.toNanos()) frame = ": keepalive\n\n";
                else continue;
                out.write(frame.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                out.flush(); // throws once the agent has gone
                lastWrite = System.nanoTime();
            }
        } catch (java.io.IOException gone) {
            // the agent disconnected; it reconnects or polls
        } finally {
            unsubscribe.run();
        }
    }

    private void requireHosts(String name) {
        if (hosts.embedded() != null && !hosts.embedded().equals(name))
            throw new ApiError(
                    409, "this server runs its instances on its embedded agent; none is placed on agent " + name, null);
    }

    private String agent(Context ctx) {
        String name = ctx.pathParam("name");
        if (!NAME.matcher(name).matches())
            throw ApiError.badRequest("'" + name + "' is not an agent name (a DNS label)", null);
        Tokens.Token token = ctx.attribute(Access.TOKEN);
        access.require(token, Access.Need.agent, name);
        return name;
    }
}
