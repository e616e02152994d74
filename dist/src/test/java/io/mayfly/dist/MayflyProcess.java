package io.mayfly.dist;

import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code mayfly server} process on free loopback ports with its own data directory, and helpers to
 * drive it the way a user does: the {@code mayfly} CLI, the {@code git} client, and HTTP through the router.
 */
final class MayflyProcess implements AutoCloseable {
    static final Path ROOT =
            Path.of(System.getProperty("mayfly.root", "..")).toAbsolutePath().normalize();
    static final Path JAR =
            Path.of(System.getProperty("mayfly.jar", "target/mayfly.jar")).toAbsolutePath();

    static {
        // Requests through the router carry Host: APP.localhost:PORT, as curl -H 'Host: ...' does.
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    }

    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    final Path data;
    final int apiPort;
    final int routerPort;
    private Process process;
    private final List<String> jvmArgs = new ArrayList<>();
    private final List<String> serverArgs = new ArrayList<>();
    private final Map<String, String> serverEnv = new java.util.HashMap<>();
    private Path serverLog;
    private int starts;
    private Path jar = JAR;

    MayflyProcess(Path data) throws IOException {
        this.data = data;
        this.apiPort = freePort();
        this.routerPort = freePort();
    }

    MayflyProcess start() throws Exception {
        serverLog = data.resolveSibling(data.getFileName() + "-server-" + (++starts) + ".log");
        Files.createDirectories(data);
        Files.deleteIfExists(data.resolve("server.json"));
        List<String> command = new ArrayList<>(List.of(java()));
        command.addAll(jvmArgs);
        command.addAll(List.of(
                "-jar",
                jar.toString(),
                "server",
                "--data",
                data.toString(),
                "--listen",
                "127.0.0.1:" + apiPort,
                "--router",
                "127.0.0.1:" + routerPort));
        command.addAll(serverArgs);
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(serverLog.toFile());
        builder.environment().putAll(serverEnv);
        process = builder.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive())
                throw new IllegalStateException("mayfly server exited: " + Files.readString(serverLog));
            if (Files.exists(data.resolve("server.json"))) {
                try {
                    if (api("GET", "/api/v1/info", null).statusCode() == 200) return this;
                } catch (IOException notYet) {
                    // still starting
                }
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("mayfly server did not start in 60 s: " + Files.readString(serverLog));
    }

    /** Another build of mayfly.jar for the server (an upgrade); takes effect at the next start. */
    MayflyProcess jar(Path jar) {
        this.jar = jar;
        return this;
    }

    /**
     * A second build of this Mayfly with another version string: a copy of mayfly.jar whose version.properties
     * (what the build writes the version into) says {@code version}.
     */
    static Path jarWithVersion(Path dir, String version) throws IOException {
        Files.createDirectories(dir);
        Path copy = dir.resolve("mayfly-" + version + ".jar");
        Files.copy(JAR, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (var zip = java.nio.file.FileSystems.newFileSystem(copy)) {
            Files.writeString(zip.getPath("io/mayfly/wire/version.properties"), "version=" + version + "\n");
        }
        return copy;
    }

    /** JVM options for the server process, e.g. -Xmx256m; takes effect at the next start. */
    MayflyProcess jvm(String... args) {
        jvmArgs.addAll(List.of(args));
        return this;
    }

    /** Extra `mayfly server` options, e.g. --db URL; takes effect at the next start. */
    MayflyProcess serverOptions(String... args) {
        serverArgs.addAll(List.of(args));
        return this;
    }

    /** An environment variable for the server process; takes effect at the next start. */
    MayflyProcess env(String name, String value) {
        serverEnv.put(name, value);
        return this;
    }

    String token() throws IOException {
        return Files.readString(data.resolve("admin.token")).trim();
    }

    String serverLog() throws IOException {
        return Files.readString(serverLog);
    }

    /** SIGKILL: no shutdown hook runs, exactly like a crash. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) kill();
        }
    }

    /** Stops the server, its embedded agent and every instance it started (both outlive the server by design). */
    @Override
    public void close() throws Exception {
        stop();
        stopAgent(data.resolve("agent"));
        stopInstances(data.resolve("agent/instances"));
    }

    /** The pid of the agent that runs with {@code home} (an agent's data directory), or -1; read from its agent.json. */
    static long agentPid(Path home) throws IOException {
        Path json = home.resolve("agent.json");
        return Files.exists(json)
                ? Json.MAPPER.readTree(json.toFile()).path("pid").asLong(-1)
                : -1;
    }

    /**
     * Whether process {@code pid} has ended: gone, or a zombie nobody reaped yet (an agent outlives the server that
     * started it, so its parent may be a pid 1 that does not reap).
     */
    static boolean ended(long pid) throws IOException {
        Path stat = Path.of("/proc/" + pid + "/stat");
        if (!Files.exists(stat)) return true;
        try {
            String text = Files.readString(stat);
            return text.substring(text.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException vanished) {
            return true;
        }
    }

    /** Kills the agent that runs with {@code home}, if one does, and waits for it to end. */
    static void stopAgent(Path home) throws Exception {
        long pid = agentPid(home);
        if (pid <= 0) return;
        var process = ProcessHandle.of(pid);
        if (process.isPresent() && process.get().info().commandLine().orElse("").contains(" agent ")) {
            process.get().destroyForcibly();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!ended(pid) && System.nanoTime() < deadline) Thread.sleep(20);
        }
    }

    /** Kills every instance whose state is under {@code instances} (an agent's data directory), with its children. */
    static void stopInstances(Path instances) throws IOException {
        if (Files.isDirectory(instances)) {
            try (var dirs = Files.list(instances)) {
                for (Path dir : dirs.toList()) {
                    Path state = dir.resolve("state.json");
                    if (!Files.exists(state)) continue;
                    var node = Json.MAPPER.readTree(state.toFile());
                    long pid = node.path("pid").asLong(-1);
                    if (pid > 0) {
                        ProcessHandle.of(pid).ifPresent(p -> {
                            p.descendants().forEach(ProcessHandle::destroyForcibly);
                            p.destroyForcibly();
                        });
                    }
                }
            }
        }
    }

    // ---- driving it like a user ----

    record Result(int exit, String out) {}

    /** Runs the mayfly CLI against this server. */
    Result cli(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java(), "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        return run(ROOT, Map.of("MAYFLY_DATA", data.toString()), cmd);
    }

    String gitUrl(String app) throws IOException {
        return "http://mayfly:" + token() + "@127.0.0.1:" + apiPort + "/git/" + app + ".git";
    }

    /** Commits the directory's content and pushes it to the app's main branch. */
    Result push(Path repo, String app, String message) throws Exception {
        git(repo, "add", "-A");
        git(repo, "commit", "-q", "--allow-empty", "-m", message);
        return run(repo, Map.of(), List.of("git", "push", gitUrl(app), "HEAD:main"));
    }

    static Result git(Path repo, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                "git",
                "-c",
                "user.name=Mayfly Test",
                "-c",
                "user.email=test@mayfly.invalid",
                "-c",
                "init.defaultBranch=main"));
        cmd.addAll(List.of(args));
        Result r = run(repo, Map.of(), cmd);
        if (r.exit() != 0) throw new IllegalStateException("git " + String.join(" ", args) + " failed: " + r.out());
        return r;
    }

    /** Copies an example into a fresh git work tree. */
    static Path checkoutExample(String example, Path into) throws Exception {
        // The example's source files as git sees them (tracked or new, never ignored build outputs such as a
        // vmlinux left by a manual make), so a test builds from source like a fresh clone would.
        Files.createDirectories(into);
        String prefix = "examples/" + example + "/";
        Result listed =
                run(ROOT, Map.of(), List.of("git", "ls-files", "--cached", "--others", "--exclude-standard", prefix));
        if (listed.exit() != 0) throw new IOException("git ls-files " + prefix + " failed: " + listed.out());
        for (String line : listed.out().split("\n")) {
            if (line.isBlank() || !line.startsWith(prefix)) continue;
            Path target = into.resolve(line.substring(prefix.length()));
            Files.createDirectories(target.getParent());
            Files.copy(
                    ROOT.resolve(line),
                    target,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
        git(into, "init", "-q");
        return into;
    }

    /** Sets the example's version string (the one line {@code #define VERSION "..."} in hello.c). */
    static void setVersion(Path repo, String version) throws IOException {
        Path source = repo.resolve("hello.c");
        String text = Files.readString(source)
                .replaceAll("#define VERSION \"[^\"]*\"", "#define VERSION \"" + version + "\"");
        Files.writeString(source, text);
    }

    static Result run(Path dir, Map<String, String> env, List<String> cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        pb.environment().put("GIT_TERMINAL_PROMPT", "0");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + " did not finish");
        }
        return new Result(p.exitValue(), out);
    }

    // ---- HTTP ----

    HttpResponse<String> api(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + apiPort + path))
                .timeout(Duration.ofMinutes(5))
                .header("Authorization", "Bearer " + token());
        b.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** GET through the router, as a browser visiting http://APP.localhost:PORT/ would. */
    HttpResponse<String> visit(String app, String path) throws IOException, InterruptedException {
        return visit(routerPort, app, path);
    }

    /** GET through the router on {@code port} (this server's, or an agent's). */
    static HttpResponse<String> visit(int port, String app, String path) throws IOException, InterruptedException {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(10))
                        .header("Host", app + ".localhost:" + port)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Polls until the app serves a page containing {@code text} through the router, or fails after the bound. */
    String awaitServing(String app, String text, Duration bound) throws Exception {
        return awaitServing(routerPort, app, text, bound);
    }

    /** Polls the router on {@code port} until the app serves a page containing {@code text}, or fails after the bound. */
    static String awaitServing(int port, String app, String text, Duration bound) throws Exception {
        long deadline = System.nanoTime() + bound.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = visit(port, app, "/");
                last = r.statusCode() + " " + r.body();
                if (r.statusCode() == 200 && r.body().contains(text)) return r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(100);
        }
        throw new AssertionError(app + " did not serve '" + text + "' within " + bound + "; last answer: " + last);
    }

    List<Views.InstanceView> instances(String app) throws Exception {
        return List.of(
                Json.read(api("GET", "/api/v1/apps/" + app + "/instances", null).body(), Views.InstanceView[].class));
    }

    List<Views.ReleaseView> releases(String app) throws Exception {
        return List.of(
                Json.read(api("GET", "/api/v1/apps/" + app + "/releases", null).body(), Views.ReleaseView[].class));
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
