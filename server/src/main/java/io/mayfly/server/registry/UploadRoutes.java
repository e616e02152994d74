package io.mayfly.server.registry;

import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.mayfly.server.build.Provenance;
import io.mayfly.server.http.Access;
import io.mayfly.server.http.ApiError;
import io.mayfly.server.http.RequestBodies;
import io.mayfly.server.release.AppLogs;
import io.mayfly.server.release.ReleaseService;
import io.mayfly.server.store.Apps;
import io.mayfly.server.store.BuildIndex;
import io.mayfly.server.store.Builds;
import io.mayfly.server.store.ContentAddressedBlobs;
import io.mayfly.server.store.Releases;
import io.mayfly.server.store.Stores;
import io.mayfly.server.store.Tokens;
import io.mayfly.wire.Json;
import io.mayfly.wire.Progress;
import io.mayfly.wire.StagedTest;
import io.mayfly.wire.manifest.Manifest;
import io.mayfly.wire.manifest.ManifestException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code POST /api/v1/apps/APP/builds}: a build made elsewhere (CI) arrives as the raw request body, streamed
 * straight into the blob store while it is hashed (never held in memory), checked against the digest the client
 * sent, and recorded as a build of source "upload"; with {@code ?deploy=true} it is released like a pushed build.
 */
public final class UploadRoutes {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-][A-Za-z0-9._/-]{0,254}");
    private static final String DEFAULT_MANIFEST = """
            [build]
            artifact = "%s"

            [run]
            driver = "process"
            args = ["--port", "{port}"]
            """;

    private final Access access;
    private final Apps apps;
    private final Builds builds;
    private final BuildIndex index;
    private final Releases releases;
    private final ReleaseService releaseService;
    private final ContentAddressedBlobs blobs;
    private final AppLogs logs;
    private final long maxBytes;

    public UploadRoutes(Access access, Stores stores, ReleaseService releaseService, AppLogs logs, long maxBytes) {
        this.access = access;
        this.apps = stores.apps();
        this.builds = stores.builds();
        this.index = stores.buildIndex();
        this.releases = stores.releases();
        this.releaseService = releaseService;
        this.blobs = stores.blobs();
        this.logs = logs;
        this.maxBytes = maxBytes;
    }

    /** What an upload answers: the build it made and, with deploy=true, the release. */
    public record Uploaded(
            String app,
            int build,
            String artifact,
            String sha256,
            long size,
            Integer release,
            String releaseStatus,
            String url) {}

    public void register(JavalinConfig config) {
        config.routes.post("/api/v1/apps/{app}/builds", this::upload);
    }

    private void upload(Context ctx) throws Exception {
        String app = ctx.pathParam("app");
        Tokens.Token token = ctx.attribute("mayfly.token");
        boolean deploy = "true".equals(ctx.queryParam("deploy"));
        access.require(token, deploy ? Access.Need.deploy : Access.Need.upload, app);
        apps.find(app)
                .orElseThrow(
                        () -> ApiError.notFound("no app named " + app, "create it with mayfly apps:create " + app));
        String name = param(ctx, "artifact", "X-Mayfly-Artifact");
        if (name == null || !NAME.matcher(name).matches() || name.contains("..")) {
            throw ApiError.badRequest(
                    "name the uploaded file with ?artifact=NAME (letters, digits, . _ - /)",
                    "e.g. ?artifact=hello.hvt");
        }
        String expected = expectedDigest(ctx);
        long declared = ctx.req().getContentLengthLong();
        if (declared > maxBytes) throw tooLarge(declared);
        Recorded manifest = manifest(ctx, app, name);

        ContentAddressedBlobs.Stored stored;
        try (InputStream body = RequestBodies.limited(ctx.req().getInputStream(), maxBytes)) {
            stored = blobs.put(body);
        } catch (RequestBodies.TooLarge e) {
            throw tooLarge(e.read());
        } catch (IOException e) {
            throw new ApiError(
                    400,
                    "the upload was cut off after it started (" + e.getMessage() + "); nothing was recorded",
                    "send it again");
        }
        if (!stored.sha256().equals(expected)) {
            if (index.byArtifactHash(stored.sha256()).isEmpty()) blobs.delete(stored.sha256());
            throw new ApiError(
                    422,
                    "the uploaded bytes hash to sha256:" + stored.sha256() + ", not the sha256:" + expected
                            + " the client sent; nothing was recorded",
                    "the file changed or was damaged on the way: upload it again");
        }
        String commit = param(ctx, "commit", "X-Mayfly-Commit");
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("uploadedBy", "token " + token.id());
        if (commit != null) meta.put("commit", commit);
        String ciUrl = param(ctx, "ci_url", "X-Mayfly-CI-URL");
        if (ciUrl != null) meta.put("ciUrl", ciUrl);
        String command = "upload by token " + token.id() + (ciUrl == null ? "" : " from " + ciUrl);
        int number = builds.start(app, "upload", commit, manifest.text(), manifest.spec(), command);
        Provenance provenance =
                Provenance.capture("upload:" + stored.sha256() + " by token " + token.id(), command, meta);
        builds.succeed(
                app,
                number,
                0,
                0,
                provenance.toJson(),
                List.of(new Builds.Artifact(name, stored.sha256(), stored.size())));
        logs.event(
                app,
                "build #" + number + " uploaded by token " + token.id() + ": " + name + " sha256:" + stored.sha256());

        Integer release = null;
        String releaseStatus = null;
        if (deploy) {
            Builds.Build build = builds.find(app, number).orElseThrow();
            ReleaseService.Result result = releaseService.locked(
                    app,
                    Progress.NONE,
                    () -> releaseService.release(
                            app,
                            build,
                            manifest.spec(),
                            manifest.text(),
                            releaseService.currentConfig(app),
                            "Deploy uploaded build #" + number,
                            StagedTest.NONE,
                            Progress.NONE));
            release = result.release().version();
            releaseStatus = result.release().status().name();
            if (!result.ok()) {
                throw new ApiError(
                        409,
                        "uploaded as build #" + number + ", but its release v" + release + " failed: "
                                + result.failure(),
                        releases.live(app)
                                .map(r -> "v" + r.version() + " is still serving")
                                .orElse("nothing is serving " + app));
            }
        }
        ctx.status(201)
                .contentType("application/json")
                .result(Json.write(new Uploaded(
                        app,
                        number,
                        name,
                        stored.sha256(),
                        stored.size(),
                        release,
                        releaseStatus,
                        "/job/" + app + "/build/" + number)));
    }

    /** A mayfly.toml as sent or kept ({@code text}) and as parsed and checked ({@code spec}). */
    private record Recorded(String text, Manifest spec) {}

    /** The mayfly.toml to record: sent with the upload (base64 in X-Mayfly-Manifest), the live release's, or a default. */
    private Recorded manifest(Context ctx, String app, String artifact) {
        String sent = ctx.header("X-Mayfly-Manifest");
        String text;
        if (sent != null) {
            try {
                text = new String(Base64.getDecoder().decode(sent.trim()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest(
                        "the X-Mayfly-Manifest header is not base64: " + e.getMessage(),
                        "send mayfly.toml base64-encoded (mayfly builds:upload does), or leave the header out to keep the live release's");
            }
        } else {
            text = releases.live(app).map(Releases.Release::manifest).orElse(DEFAULT_MANIFEST.formatted(artifact));
        }
        Manifest spec;
        try {
            spec = Manifest.parse("mayfly.toml", text);
        } catch (ManifestException e) {
            throw ApiError.badRequest(e.getMessage(), "fix the mayfly.toml sent with the upload");
        }
        if (spec.build().artifact() != null && !spec.build().artifact().equals(artifact)) {
            throw ApiError.badRequest(
                    "the manifest names the artifact " + spec.build().artifact() + " but the upload is " + artifact,
                    "upload with ?artifact=" + spec.build().artifact() + ", or send a manifest for this file");
        }
        return new Recorded(text, spec);
    }

    private static String expectedDigest(Context ctx) {
        String hex = ctx.queryParam("sha256");
        String digest = ctx.header("Digest");
        if (hex == null && digest != null) {
            for (String part : digest.split(",")) {
                String p = part.trim();
                if (p.regionMatches(true, 0, "sha-256=", 0, 8)) {
                    hex = HexFormat.of().formatHex(Base64.getDecoder().decode(p.substring(8)));
                }
            }
        }
        if (hex == null) {
            throw ApiError.badRequest(
                    "an upload needs the sha256 of its bytes, to check them on arrival",
                    "send ?sha256=HEX or a header Digest: sha-256=BASE64 (mayfly builds:upload does)");
        }
        hex = hex.toLowerCase(Locale.ROOT).replaceFirst("^sha256:", "");
        if (!SHA256.matcher(hex).matches()) throw ApiError.badRequest("'" + hex + "' is not a sha256 in hex", null);
        return hex;
    }

    private static String param(Context ctx, String query, String header) {
        String v = ctx.queryParam(query);
        return v != null ? v : ctx.header(header);
    }

    private ApiError tooLarge(long bytes) {
        return new ApiError(
                413,
                "the upload is larger than this server takes (" + bytes + " bytes; the limit is " + maxBytes + ")",
                "raise it with mayfly server --max-upload, or upload a smaller image");
    }
}
