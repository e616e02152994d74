package io.mayfly.server.web;

import static io.mayfly.server.http.Answers.json;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.mayfly.server.http.Access;
import io.mayfly.server.http.ApiError;
import io.mayfly.server.http.RequestBodies;
import io.mayfly.server.release.Actor;
import io.mayfly.server.release.AppLogs;
import io.mayfly.server.release.RebuildSchedule;
import io.mayfly.server.release.SourceBuilds;
import io.mayfly.server.store.AppSources;
import io.mayfly.server.store.Apps;
import io.mayfly.server.store.Audit;
import io.mayfly.server.store.Stores;
import io.mayfly.server.store.WebhookDeliveries;
import io.mayfly.wire.Json;
import io.mayfly.wire.SourceRepository;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Apps built from a repository elsewhere: {@code PUT /api/v1/apps/APP/source} (admin only; a remote repository, see
 * {@link SourceRepository}) sets the repository and makes a webhook secret, {@code POST /api/v1/apps/APP/sync} fetches
 * (and builds), {@code POST .../schedule/run} runs a scheduled rebuild now, and {@code POST /api/v1/hooks/APP} takes
 * push events from GitHub, GitLab and Gitea. Each sender proves itself with the app's webhook secret (GitHub:
 * {@code X-Hub-Signature-256}, HMAC-SHA256 of the body; Gitea: {@code X-Gitea-Signature}, the same HMAC in hex; GitLab:
 * {@code X-Gitlab-Token}, the secret itself). A request that does not is refused with 401 and changes nothing; a push to
 * the app's branch fetches and builds it. A delivery sent again (the same delivery id: a retry, a redelivery, a replay)
 * is answered 200 "already handled" and does nothing.
 */
public final class SourceRoutes {
    private static final Logger log = LoggerFactory.getLogger(SourceRoutes.class);

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
    private final Access access;
    private final Apps apps;
    private final Audit audit;
    private final AppSources sources;
    private final WebhookDeliveries deliveries;
    private final SourceBuilds builds;
    private final RebuildSchedule schedule;
    private final AppLogs logs;
    private final java.util.function.Supplier<String> apiUrl;

    public SourceRoutes(
            Access access,
            Stores stores,
            SourceBuilds builds,
            RebuildSchedule schedule,
            AppLogs logs,
            java.util.function.Supplier<String> apiUrl) {
        this.access = access;
        this.deliveries = stores.webhooks();
        this.apps = stores.apps();
        this.audit = stores.audit();
        this.sources = stores.sources();
        this.builds = builds;
        this.schedule = schedule;
        this.logs = logs;
        this.apiUrl = apiUrl;
    }

    /** What setting a source answers: the webhook URL and secret to paste into the forge's settings (shown once). */
    public record SourceView(String app, String repo, String branch, String hookUrl, String hookSecret) {}

    /** The senders Mayfly understands, and how each one signs. */
    enum Sender {
        github,
        gitlab,
        gitea
    }

    public void register(JavalinConfig config) {
        config.routes.post("/api/v1/hooks/{app}", this::receive);
        config.routes.put("/api/v1/apps/{app}/source", ctx -> {
            String app = ctx.pathParam("app");
            // Where an app's code comes from decides what it can read: only an admin moves it, and only to a repository
            // elsewhere.
            access.require(ctx.attribute(Access.TOKEN), Access.Need.admin, app);
            apps.find(app)
                    .orElseThrow(() -> ApiError.notFound(
                            "no app named " + app, "create it with: mayfly apps:create " + app + " --repo URL"));
            JsonNode body = Json.readBody(ctx.body(), JsonNode.class);
            String repo = body.path("repo").asText("");
            String branch = body.path("branch").asText("main");
            SourceRepository.whyRefused(repo).ifPresent(why -> {
                throw ApiError.badRequest(
                        "cannot build " + app + " from that repository: " + why, SourceRepository.HINT);
            });
            SourceRepository.whyRefusedBranch(branch).ifPresent(why -> {
                throw ApiError.badRequest(
                        "cannot build " + app + " from that branch: " + why, "name one branch, such as main");
            });
            byte[] raw = new byte[24];
            RANDOM.nextBytes(raw);
            String secret = HexFormat.of().formatHex(raw);
            sources.put(app, repo, branch, secret);
            audit.record(app, Actor.current(), "source", SourceRepository.printable(repo) + " (" + branch + ")");
            logs.event(
                    app,
                    "builds from " + SourceRepository.printable(repo) + " (" + branch + "); webhook secret renewed");
            json(ctx, 200, new SourceView(app, repo, branch, apiUrl.get() + "/api/v1/hooks/" + app, secret));
        });
        config.routes.post("/api/v1/apps/{app}/sync", ctx -> {
            String app = ctx.pathParam("app");
            access.require(ctx.attribute(Access.TOKEN), Access.Need.deploy, app);
            JsonNode body = Json.readBody(ctx.body().isBlank() ? "{}" : ctx.body(), JsonNode.class);
            boolean build = body.path("build").asBoolean(false)
                    || body.path("buildIfChanged").asBoolean(false);
            java.util.List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
            SourceBuilds.Result result =
                    builds.sync(app, build, body.path("buildIfChanged").asBoolean(false), lines::add);
            json(ctx, 200, Map.of("result", result, "output", lines));
        });
        config.routes.post("/api/v1/apps/{app}/builds/{n}/rebuild", ctx -> {
            String app = ctx.pathParam("app");
            access.require(ctx.attribute(Access.TOKEN), Access.Need.deploy, app);
            int number;
            try {
                number = Integer.parseInt(ctx.pathParam("n"));
            } catch (NumberFormatException e) {
                throw ApiError.badRequest("'" + ctx.pathParam("n") + "' is not a build number", null);
            }
            java.util.List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
            try {
                json(ctx, 200, Map.of("verdict", builds.rebuild(app, number, lines::add), "output", lines));
            } catch (IllegalStateException e) {
                throw new ApiError(409, e.getMessage(), "see mayfly builds -a " + app);
            }
        });
        config.routes.post("/api/v1/apps/{app}/schedule/run", ctx -> {
            String app = ctx.pathParam("app");
            access.require(ctx.attribute(Access.TOKEN), Access.Need.deploy, app);
            var outcome = schedule.runNow(app)
                    .orElseThrow(() -> ApiError.notFound(app + " has no deployed commit to rebuild", "push first"));
            json(ctx, 200, Map.of("outcome", outcome.getClass().getSimpleName().toLowerCase(), "detail", outcome));
        });
    }

    private void receive(Context ctx) {
        String app = ctx.pathParam("app");
        AppSources.Source source = sources.find(app)
                .orElseThrow(() -> ApiError.notFound(
                        "no app named " + app + " with a repository to build from",
                        "create it with: mayfly apps:create " + app + " --repo URL"));
        byte[] body = RequestBodies.read(ctx, RequestBodies.MAX_WEBHOOK_BODY);
        Sender sender = senderOf(ctx);
        if (sender == null) {
            throw new ApiError(
                    400,
                    "not a GitHub, GitLab or Gitea webhook (no X-GitHub-Event, X-Gitlab-Event or X-Gitea-Event header)",
                    null);
        }
        if (!verified(sender, ctx, body, source.hookSecret())) {
            log.warn("refused a {} webhook for {}: its signature does not match the app's webhook secret", sender, app);
            throw new ApiError(
                    401,
                    "the " + sender + " webhook's signature does not match " + app + "'s webhook secret",
                    "set the secret shown by mayfly apps:create --repo in the webhook's settings");
        }
        // After the signature: only a real delivery is remembered, so a forged one cannot keep a real one out.
        String delivery = deliveryId(sender, ctx);
        if (delivery != null && !deliveries.first(app, sender.name(), delivery)) {
            log.info("{} webhook delivery {} for {} was handled already; ignoring it", sender, delivery, app);
            json(ctx, 200, Map.of("status", "already handled", "delivery", delivery));
            return;
        }
        String event = switch (sender) {
            case github -> ctx.header("X-GitHub-Event");
            case gitlab -> ctx.header("X-Gitlab-Event");
            case gitea -> ctx.header("X-Gitea-Event");
        };
        if ("ping".equals(event)) {
            json(ctx, 200, Map.of("status", "pong"));
            return;
        }
        if (!"push".equalsIgnoreCase(event) && !"Push Hook".equals(event)) {
            json(ctx, 202, Map.of("status", "ignored", "reason", "only push events build; this was " + event));
            return;
        }
        JsonNode payload = Json.readBody(new String(body, StandardCharsets.UTF_8), JsonNode.class);
        String ref = payload.path("ref").asText();
        if (!ref.equals("refs/heads/" + source.branch())) {
            json(
                    ctx,
                    202,
                    Map.of(
                            "status",
                            "ignored",
                            "reason",
                            "a push to " + ref + "; " + app + " builds " + source.branch()));
            return;
        }
        String commit = payload.hasNonNull("checkout_sha")
                ? payload.path("checkout_sha").asText()
                : payload.path("after").asText();
        logs.event(app, sender + " webhook: push of " + commit + " to " + source.branch() + "; fetching and building");
        Thread.ofVirtual()
                .name("hook-" + app)
                .start(() -> Actor.as("webhook " + sender, () -> {
                    try {
                        builds.sync(app, true, true, line -> {});
                    } catch (Exception e) {
                        logs.event(app, "webhook build failed: " + e.getMessage());
                        log.error("webhook build of {} failed", app, e);
                        if (delivery != null)
                            deliveries.forget(app, sender.name(), delivery); // not handled: a redelivery may try again
                    }
                    return null;
                }));
        json(ctx, 202, Map.of("status", "accepted", "commit", commit));
    }

    /**
     * The id the sender gives this delivery, the same when it sends it again (GitHub {@code X-GitHub-Delivery}, Gitea
     * {@code X-Gitea-Delivery}, GitLab {@code Idempotency-Key} or else {@code X-Gitlab-Event-UUID}); null without one.
     */
    static String deliveryId(Sender sender, Context ctx) {
        String id = switch (sender) {
            case github -> ctx.header("X-GitHub-Delivery");
            case gitea -> ctx.header("X-Gitea-Delivery");
            case gitlab ->
                ctx.header("Idempotency-Key") != null
                        ? ctx.header("Idempotency-Key")
                        : ctx.header("X-Gitlab-Event-UUID");
        };
        if (id == null || id.isBlank()) return null;
        if (id.length() > WebhookDeliveries.MAX_ID || !id.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw ApiError.badRequest(
                    "the " + sender + " webhook's delivery id is not one (up to " + WebhookDeliveries.MAX_ID
                            + " printable characters)",
                    "send the delivery id the forge made, or none");
        }
        return id;
    }

    static Sender senderOf(Context ctx) {
        if (ctx.header("X-Gitea-Event") != null)
            return Sender.gitea; // Gitea also sends X-GitHub-Event for compatibility
        if (ctx.header("X-Gitlab-Event") != null) return Sender.gitlab;
        if (ctx.header("X-GitHub-Event") != null) return Sender.github;
        return null;
    }

    static boolean verified(Sender sender, Context ctx, byte[] body, String secret) {
        return switch (sender) {
            case github -> same(ctx.header("X-Hub-Signature-256"), "sha256=" + hmac(secret, body));
            case gitea -> same(ctx.header("X-Gitea-Signature"), hmac(secret, body));
            case gitlab -> same(ctx.header("X-Gitlab-Token"), secret);
        };
    }

    static String hmac(String secret, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(body));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Constant-time comparison, so the time taken says nothing about how much of a forged signature was right. */
    private static boolean same(String given, String expected) {
        return given != null
                && MessageDigest.isEqual(
                        given.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
    }
}
