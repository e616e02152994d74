package io.mayfly.agent.router;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the router alone with fixed routes, for benchmarks and manual checks:
 * {@code --listen HOST:PORT --domain D --route APP=HOST:PORT [--route ...] [--threads N]}.
 */
public final class StandaloneRouter {
    private StandaloneRouter() {}

    public static void main(String[] args) throws InterruptedException {
        String listen = "127.0.0.1:8080";
        String domain = "localhost";
        int threads = Runtime.getRuntime().availableProcessors();
        Map<String, List<Backend>> routes = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (i + 1 >= args.length) {
                usage("option " + option + " needs a value");
            }
            String value = args[++i];
            switch (option) {
                case "--listen" -> listen = value;
                case "--domain" -> domain = value;
                case "--threads" -> threads = Integer.parseInt(value);
                case "--route" -> {
                    int equals = value.indexOf('=');
                    if (equals <= 0) {
                        usage("--route " + value + " is not APP=HOST:PORT");
                    }
                    String app = value.substring(0, equals);
                    InetSocketAddress target = hostPort(value.substring(equals + 1));
                    List<Backend> backends = routes.computeIfAbsent(app, a -> new ArrayList<>());
                    backends.add(
                            new Backend(app + "-" + (backends.size() + 1), target.getHostString(), target.getPort()));
                }
                default -> usage("unknown option " + option);
            }
        }
        // Timed per app as in `mayfly server`, so benchmarks measure the router as it really runs.
        Router router = new Router(
                domain,
                threads,
                new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                        io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT));
        routes.forEach(router::switchTo);
        InetSocketAddress bound = router.start(hostPort(listen));
        System.out.println("mayfly router listening on " + bound.getHostString() + ":" + bound.getPort()
                + " with " + threads + " I/O thread(s), transport "
                + Transport.best().name().toLowerCase()
                + ", routes " + routes);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            router.close();
            stopped.countDown();
        }));
        stopped.await();
    }

    private static InetSocketAddress hostPort(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0) {
            usage(text + " is not HOST:PORT");
        }
        return new InetSocketAddress(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
    }

    private static void usage(String problem) {
        System.err.println(
                "mayfly router: " + problem + "\n"
                        + "usage: StandaloneRouter --listen HOST:PORT --domain D --route APP=HOST:PORT [--route ...] [--threads N]");
        System.exit(2);
    }
}
