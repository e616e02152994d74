package io.mayfly.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mayfly builds:upload -a APP FILE}: a build made elsewhere (CI) goes into the registry, streamed with a
 * progress bar and its sha256 sent along so the server checks the bytes on arrival; {@code --deploy} releases it.
 */
@Command(
        name = "builds:upload",
        mixinStandardHelpOptions = true,
        description = "Upload an image built elsewhere (e.g. by CI) as a build.")
final class UploadCommand extends ClientCommand {
    @Mixin
    AppOption app;

    @Parameters(paramLabel = "FILE", description = "the boot image")
    Path file;

    @Option(names = "--artifact", description = "its name in the registry (default: the file's name)")
    String artifact;

    @Option(names = "--manifest", description = "the mayfly.toml to run it with (default: the live release's)")
    Path manifest;

    @Option(names = "--commit", description = "the commit it was built from, for the record")
    String commit;

    @Option(names = "--ci-url", description = "the CI job that built it, for the record")
    String ciUrl;

    @Option(names = "--deploy", description = "release it once stored (needs a deploy token)")
    boolean deploy;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(file)) throw new CliError("no file " + file, null);
        long size = Files.size(file);
        String name = artifact != null ? artifact : file.getFileName().toString();
        String sha256 = sha256(file);
        StringBuilder path =
                new StringBuilder(appPath(app.name)).append("/builds?artifact=").append(ApiClient.segment(name));
        if (deploy) path.append("&deploy=true");
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(
                "Digest",
                "sha-256=" + Base64.getEncoder().encodeToString(HexFormat.of().parseHex(sha256)));
        if (commit != null) headers.put("X-Mayfly-Commit", commit);
        if (ciUrl != null) headers.put("X-Mayfly-CI-URL", ciUrl);
        if (manifest != null) {
            headers.put(
                    "X-Mayfly-Manifest",
                    Base64.getEncoder()
                            .encodeToString(Files.readString(manifest).getBytes(StandardCharsets.UTF_8)));
        }
        JsonNode uploaded;
        try (ProgressBar bar = new ProgressBarBuilder()
                .setTaskName("Uploading " + name)
                .setInitialMax(size)
                .setStyle(ProgressBarStyle.ASCII)
                .setUnit(" MiB", 1 << 20)
                .showSpeed()
                .continuousUpdate()
                .setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err))
                .build()) {
            uploaded = api().upload(
                            path.toString(),
                            () -> counting(file, bar),
                            size,
                            headers,
                            JsonNode.class,
                            Duration.ofHours(1));
        }
        StringBuilder text = new StringBuilder(
                "Uploaded " + name + " as build #" + uploaded.path("build").asInt() + " of " + app.name + " (sha256:"
                        + uploaded.path("sha256").asText() + ", "
                        + HumanFormat.size(uploaded.path("size").asLong()) + ")\n");
        if (uploaded.hasNonNull("release")) {
            text.append("Released as v")
                    .append(uploaded.path("release").asInt())
                    .append(": live at ")
                    .append(api().get(appPath(app.name), io.mayfly.wire.Views.AppView.class)
                            .url())
                    .append('\n');
        }
        print(text.toString());
        return 0;
    }

    private static InputStream counting(Path file, ProgressBar bar) {
        try {
            return new FilterInputStream(Files.newInputStream(file)) {
                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    if (n > 0) bar.stepBy(n);
                    return n;
                }
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
