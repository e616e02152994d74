package io.mayfly.cli;

import io.mayfly.wire.Views.DriverView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;

/** {@code mayfly drivers}: what the server's host (or its remote agents) can boot, how (KVM or emulation), or why not. */
@Command(name = "drivers", mixinStandardHelpOptions = true,
        description = "List the drivers instances can run on (the server's host, or its remote agents): available or not, and why.")
final class DriversCommand extends ClientCommand {
    @Option(names = "--json", description = "print the server's JSON")
    boolean json;

    @Override
    public Integer call() {
        return list("/drivers", json, DriverView.class, "This host has no drivers.",
                drivers -> HumanFormat.table(List.of("DRIVER", "AVAILABLE", "INSTANCES", "DETAIL"), drivers.stream()
                        .map(d -> List.of(d.name(), d.available() ? "yes" : "no", Integer.toString(d.instances()), d.detail()))
                        .toList()));
    }
}
