package io.mayfly.dist;

import io.mayfly.agent.Agent;
import io.mayfly.agent.driver.Drivers;
import io.mayfly.agent.router.Router;
import io.mayfly.agent.supervisor.RestartPolicy;
import io.mayfly.agent.watch.RegistryWatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;

/** {@code mayfly agent --watch URL}: a host that pulls what it runs from a registry, with read access only. */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = "Run an agent that watches a registry URL (BASE/job/APP/build/latest) and deploys each new build, health-gated.")
public final class AgentCommand implements Callable<Integer> {
    @Option(names = "--watch", required = true, paramLabel = "URL", description = "e.g. http://127.0.0.1:7070/job/hello/build/latest")
    String watch;

    @Option(names = "--token", paramLabel = "TOKEN", description = "a token with read access to the app (default: $MAYFLY_TOKEN)")
    String token;

    @Option(names = "--router", description = "HTTP router address (default: ${DEFAULT-VALUE})", defaultValue = "127.0.0.1:8080")
    String router;

    @Option(names = "--domain", description = "apps are served at APP.DOMAIN (default: ${DEFAULT-VALUE})", defaultValue = "localhost")
    String domain;

    @Option(names = "--data", description = "state directory (default: ~/.mayfly-agent)")
    Path data;

    @Option(names = "--interval", description = "how often to poll, e.g. 30s, 5s, 2m (default: ${DEFAULT-VALUE})", defaultValue = "30s")
    String interval;

    @Option(names = "--key", paramLabel = "FINGERPRINT", description = "trust only a server signing key with this sha256 fingerprint")
    String key;

    @Override
    public Integer call() throws Exception {
        String secret = token != null ? token : System.getenv("MAYFLY_TOKEN");
        if (secret == null || secret.isBlank()) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--token (or MAYFLY_TOKEN) is needed: a token with read access to the app");
        }
        Duration every = parseInterval(interval);
        Path dir = data != null ? data : Path.of(System.getProperty("user.home"), ".mayfly-agent");
        Router proxy = new Router(domain);
        var address = proxy.start(ServerCommand.address(router, "--router"));
        Agent agent = new Agent(dir.resolve("agent"), proxy, Drivers.all(),
                (app, line) -> say(app + ": " + line), RestartPolicy.DEFAULT);
        agent.recover();
        RegistryWatch watcher = new RegistryWatch(watch, secret, agent, dir, key, AgentCommand::say);
        agent.declare(watcher.app());
        say("watching " + watch + " every " + every.toSeconds() + " s; serving " + watcher.app() + " at http://" + watcher.app() + "."
                + domain + ":" + address.getPort());
        Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "mayfly-agent-shutdown"));
        watcher.run(every);
        return 0;
    }

    static Duration parseInterval(String text) {
        var m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h)").matcher(text.trim());
        if (!m.matches()) throw new IllegalArgumentException("--interval expects a duration like 30s, 5s or 2m, got '" + text + "'");
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    private static void say(String line) {
        System.out.println(Instant.now() + " " + line);
        System.out.flush();
    }
}
