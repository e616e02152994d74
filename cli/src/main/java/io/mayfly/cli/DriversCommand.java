package io.mayfly.cli;

import io.mayfly.wire.Views.DriverView;
import io.mayfly.wire.Views.Reprobed;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mayfly drivers}: what the server's host (or its remote agents) can boot, how (KVM or emulation, and what
 * that was learnt from), or why not. {@code --reprobe} makes a driver forget what it learnt, to learn it again.
 */
@Command(
        name = "drivers",
        mixinStandardHelpOptions = true,
        description = {
            "List the drivers instances can run on (the server's host, or its remote agents): available or not, and why.",
            "--reprobe: forget whether KVM runs guests there (QEMU); the next VM boot tries KVM again, watched, and falls back to TCG if it fails."
        })
final class DriversCommand extends ClientCommand {
    @Option(names = "--json", description = "print the server's JSON")
    boolean json;

    @Option(
            names = "--reprobe",
            arity = "0..1",
            paramLabel = "DRIVER",
            fallbackValue = "qemu",
            description =
                    "make DRIVER (default: qemu) forget what it learnt about the host; needs an admin token, or the host's agent token")
    String reprobe;

    @Option(
            names = "--agent",
            paramLabel = "NAME",
            description =
                    "with --reprobe: only this remote agent's host (default: every host, or the agent token's own)")
    String agent;

    @Override
    public Integer call() {
        if (reprobe != null) {
            String path = "/drivers/" + ApiClient.segment(reprobe) + "/reprobe"
                    + (agent == null ? "" : "?agent=" + ApiClient.segment(agent));
            Reprobed done = api().post(path, Map.of(), Reprobed.class, ApiClient.DEFAULT_TIMEOUT);
            if (!json)
                print(done.driver() + " on " + String.join(", ", done.hosts()) + ": forgot what it learnt; "
                        + done.detail() + "\n");
        }
        return list(
                "/drivers",
                json,
                DriverView.class,
                "This host has no drivers.",
                drivers -> HumanFormat.table(
                        List.of("DRIVER", "AVAILABLE", "INSTANCES", "DETAIL"),
                        drivers.stream()
                                .map(d -> List.of(
                                        d.name(),
                                        d.available() ? "yes" : "no",
                                        Integer.toString(d.instances()),
                                        d.detail()))
                                .toList()));
    }
}
