package io.mayfly.cli;

import io.mayfly.wire.Views.InstanceView;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mayfly ps -a APP}: the app's instances, which release each runs and how long it has been up. */
@Command(name = "ps", mixinStandardHelpOptions = true, description = "List an app's instances.")
final class PsCommand extends ClientCommand {
    private static final Set<String> NOT_RUNNING = Set.of("exited", "stopped", "failed");

    @Mixin
    AppOption app;

    @Option(names = "--json", description = "print the server's JSON")
    boolean json;

    @Override
    public Integer call() {
        return list(
                appPath(app.name) + "/instances",
                json,
                InstanceView.class,
                app.name + " has no instances.",
                this::table);
    }

    /** The HOST column only when a remote agent runs some of them; a single-host server has no need of it. */
    private String table(List<InstanceView> instances) {
        boolean remote = instances.stream().anyMatch(i -> i.host() != null);
        List<String> head = new java.util.ArrayList<>(
                List.of("ID", "RELEASE", "DRIVER", "STATE", "PORT", "PID", "UPTIME", "RESTARTS"));
        if (remote) head.add(2, "HOST");
        return HumanFormat.table(
                head,
                instances.stream()
                        .map(i -> {
                            List<String> row = new java.util.ArrayList<>(List.of(
                                    i.id(),
                                    HumanFormat.version(i.release()),
                                    i.driver(),
                                    i.state(),
                                    i.port() > 0 ? String.valueOf(i.port()) : HumanFormat.NONE,
                                    i.pid() > 0 ? String.valueOf(i.pid()) : HumanFormat.NONE,
                                    uptime(i),
                                    String.valueOf(i.restarts())));
                            if (remote) row.add(2, i.host() == null ? "server" : i.host());
                            return row;
                        })
                        .toList());
    }

    private String uptime(InstanceView instance) {
        if (instance.startedAt() == null || NOT_RUNNING.contains(instance.state())) return HumanFormat.NONE;
        return HumanFormat.duration(Duration.between(instance.startedAt(), now()));
    }
}
