package io.mayfly.dist;

import io.mayfly.server.MayflyServer;
import io.mayfly.server.store.Database;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mayfly server}: the control plane with its embedded agent and router, until stopped. */
@Command(
        name = "server",
        mixinStandardHelpOptions = true,
        description = "Run the Mayfly server (API, git, builds, registry) with an embedded agent and router.")
public final class ServerCommand implements Callable<Integer> {
    @Option(
            names = "--listen",
            description = "API and git address (default: ${DEFAULT-VALUE})",
            defaultValue = "127.0.0.1:7070")
    String listen;

    @Option(
            names = "--router",
            description = "HTTP router address (default: ${DEFAULT-VALUE})",
            defaultValue = "127.0.0.1:8080")
    String router;

    @Option(
            names = "--domain",
            description = "apps are served at APP.DOMAIN (default: ${DEFAULT-VALUE})",
            defaultValue = "localhost")
    String domain;

    @Option(names = "--data", description = "state directory (default: $MAYFLY_DATA or ~/.mayfly)")
    Path data;

    @Option(
            names = "--max-upload",
            description = "largest build upload, build worker output or git push (its pack) accepted, e.g. 512M, 2G "
                    + "(default: ${DEFAULT-VALUE}); JSON and forms are capped at 4M, webhook deliveries at 25M",
            defaultValue = "2G")
    String maxUpload;

    @Option(
            names = "--keep-builds",
            description = "builds kept per app besides those a release names (default: ${DEFAULT-VALUE})",
            defaultValue = "20")
    int keepBuilds;

    @Option(
            names = "--db",
            description = "state database: postgresql://USER:PASSWORD@HOST:PORT/DBNAME, shared by servers "
                    + "(default: $MAYFLY_DB, else SQLite in the data directory)")
    String db;

    @Option(
            names = "--blobs",
            description = "blob store: s3://BUCKET[/PREFIX]?endpoint=URL&region=R, with AWS_ACCESS_KEY_ID and "
                    + "AWS_SECRET_ACCESS_KEY (default: $MAYFLY_BLOBS, else the data directory)")
    String blobs;

    @Option(
            names = "--no-agent",
            description = "run the control plane alone: no instance runs here, releases go to remote agents "
                    + "(mayfly agent --server URL --token TOKEN)")
    boolean noAgent;

    @Option(
            names = "--agent-timeout",
            description =
                    "a remote agent silent this long is marked down and its apps move (default: ${DEFAULT-VALUE})",
            defaultValue = "10s")
    String agentTimeout;

    @Option(
            names = "--stop-agent",
            description = "stop the embedded agent (router and instances' supervision) when this server stops; "
                    + "without it the agent keeps serving the apps and the next start adopts it")
    boolean stopAgent;

    @Mixin
    BuildPolicyOptions builds = new BuildPolicyOptions();

    @Mixin
    RouterTimeoutOptions timeouts;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Path dir = data != null
                ? data
                : System.getenv("MAYFLY_DATA") != null
                        ? Path.of(System.getenv("MAYFLY_DATA"))
                        : Path.of(System.getProperty("user.home"), ".mayfly");
        MayflyServer server = MayflyServer.start(new MayflyServer.Settings(
                dir,
                address(listen, "--listen"),
                address(router, "--router"),
                domain,
                size(maxUpload, "--max-upload"),
                keepBuilds,
                db != null ? db : System.getenv("MAYFLY_DB"),
                blobs != null ? blobs : System.getenv("MAYFLY_BLOBS"),
                !noAgent,
                AgentCommand.duration(agentTimeout, "--agent-timeout", spec.commandLine()),
                agentCommand(dir),
                stopAgent,
                builds.policy(spec.commandLine(), dir)));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            server.close();
                            stopped.countDown();
                        },
                        "mayfly-shutdown"));
        var info = server.info();
        System.out.println("Mayfly " + info.version() + " is running");
        System.out.println("  API and git:  " + info.apiUrl());
        if (noAgent) {
            System.out.println(
                    "  router:       none here (--no-agent): apps are served by the routers of their agents; see mayfly agents");
        } else {
            System.out.println("  router:       " + info.routerUrl() + "  (apps at http://APP." + info.domain() + ":"
                    + port(info.routerUrl()) + ")");
        }
        var agent = server.embeddedAgent();
        if (agent != null) {
            System.out.println("  agent:        pid " + agent.pid()
                    + (agent.adopted() ? ", adopted (it kept serving)" : ", started")
                    + (stopAgent
                            ? "; stops with this server"
                            : "; keeps serving when this server stops (--stop-agent to stop both)"));
        }
        System.out.println("  data:         " + dir.toAbsolutePath());
        if (server.settings().database() != null)
            System.out.println(
                    "  database:     " + Database.redact(server.settings().database()));
        if (server.settings().blobStore() != null)
            System.out.println("  blobs:        " + server.settings().blobStore());
        if (server.createdAdminToken() != null) {
            System.out.println("  admin token:  " + server.createdAdminToken() + "  (shown once; saved to "
                    + dir.toAbsolutePath().resolve("admin.token") + ")");
        } else {
            System.out.println("  admin token:  in " + dir.toAbsolutePath().resolve("admin.token"));
        }
        System.out.println("Next: ./mayfly apps:create hello");
        System.out.flush();
        stopped.await();
        return 0;
    }

    /**
     * The {@code mayfly agent} command the embedded agent runs: this JVM's java, and this jar copied to
     * {@code DATA/agent/bin/} once per build (a rebuild or upgrade of the jar cannot pull classes from under an
     * agent that keeps running), with the router's options.
     */
    private List<String> agentCommand(Path dir) throws java.io.IOException {
        String javaBin = ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String[] entries = System.getProperty("java.class.path").split(java.io.File.pathSeparator);
        String classpath;
        if (entries.length == 1 && entries[0].endsWith(".jar")) {
            Path jar = Path.of(entries[0]).toAbsolutePath();
            // Named by its content (CRC-32C: a build's timestamps are fixed, so only the bytes tell two builds apart).
            var crc = new java.util.zip.CRC32C();
            try (var in = Files.newInputStream(jar)) {
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = in.read(buffer)) > 0; ) crc.update(buffer, 0, n);
            }
            Path copy = dir.toAbsolutePath()
                    .resolve("agent")
                    .resolve("bin")
                    .resolve("mayfly-" + io.mayfly.wire.Version.CURRENT + "-" + Long.toHexString(crc.getValue())
                            + ".jar");
            if (!Files.exists(copy)) {
                Files.createDirectories(copy.getParent());
                Path tmp = copy.resolveSibling(copy.getFileName() + ".tmp");
                Files.copy(jar, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, copy, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            classpath = copy.toString();
            pruneAgentJars(copy);
        } else {
            classpath = java.util.Arrays.stream(entries)
                    .map(e -> Path.of(e).toAbsolutePath().toString())
                    .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
        }
        List<String> command = new java.util.ArrayList<>(List.of(
                javaBin,
                "-XX:+UseSerialGC",
                "-Xss512k",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                classpath,
                Main.class.getName(),
                "agent"));
        command.addAll(timeouts.args());
        return command;
    }

    /** Deletes the copies of earlier builds in {@code DATA/agent/bin/}, but this one and the one the running agent uses. */
    private static void pruneAgentJars(Path current) throws java.io.IOException {
        Path bin = current.getParent();
        String running = io.mayfly.agent.remote.AgentLock.running(bin.getParent())
                .flatMap(h -> ProcessHandle.of(h.pid()))
                .flatMap(p -> p.info().arguments())
                .map(args -> String.join(" ", args))
                .orElse("");
        try (var jars = Files.list(bin)) {
            for (Path jar : jars.toList()) {
                String name = jar.getFileName().toString();
                if (name.startsWith("mayfly-") && !jar.equals(current) && !running.contains(jar.toString()))
                    Files.deleteIfExists(jar);
            }
        }
    }

    static InetSocketAddress address(String value, String option) {
        int colon = value.lastIndexOf(':');
        try {
            if (colon < 0) return new InetSocketAddress("127.0.0.1", Integer.parseInt(value));
            return new InetSocketAddress(value.substring(0, colon), Integer.parseInt(value.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new picocli.CommandLine.ParameterException(
                    new picocli.CommandLine(new ServerCommand()),
                    option + " expects HOST:PORT (e.g. 127.0.0.1:7070), got '" + value + "'");
        }
    }

    static long size(String text, String option) {
        var m = java.util.regex.Pattern.compile("(\\d{1,9})([KMGT]?)", java.util.regex.Pattern.CASE_INSENSITIVE)
                .matcher(text.trim());
        if (!m.matches()) {
            throw new picocli.CommandLine.ParameterException(
                    new picocli.CommandLine(new ServerCommand()),
                    option + " expects a size like 512M or 2G, got '" + text + "'");
        }
        int shift = switch (m.group(2).toUpperCase()) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> 0;
        };
        return Long.parseLong(m.group(1)) << shift;
    }

    private static String port(String url) {
        return url.substring(url.lastIndexOf(':') + 1);
    }
}
