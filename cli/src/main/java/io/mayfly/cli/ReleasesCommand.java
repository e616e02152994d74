package io.mayfly.cli;

import io.mayfly.wire.Views.ReleaseView;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mayfly releases -a APP}: every release vN, newest first, the live one marked. */
@Command(name = "releases", mixinStandardHelpOptions = true, description = "List an app's releases, newest first.")
final class ReleasesCommand extends ClientCommand {
    static final String LIVE = "live";

    @Mixin
    AppOption app;

    @Option(names = "--json", description = "print the server's JSON")
    boolean json;

    @Override
    public Integer call() {
        return list(
                appPath(app.name) + "/releases",
                json,
                ReleaseView.class,
                app.name + " has no releases yet. Push to create one: see mayfly apps:create",
                this::table);
    }

    private String table(List<ReleaseView> releases) {
        return HumanFormat.table(
                        List.of("  VERSION", "STATUS", "BUILD", "SHA256", "DESCRIPTION", "CREATED"),
                        releases.stream()
                                .map(r -> List.of(
                                        (LIVE.equals(r.status()) ? "* " : "  ") + "v" + r.version(),
                                        r.status(),
                                        r.build() > 0 ? "#" + r.build() : HumanFormat.NONE,
                                        HumanFormat.sha12(r.sha256()),
                                        description(r),
                                        HumanFormat.ago(r.createdAt(), now())))
                                .toList())
                + "(* = live)\n";
    }

    private static String description(ReleaseView r) {
        String description = r.description() == null ? "" : r.description();
        if (r.reason() == null || r.reason().isBlank()) return description;
        return description.isEmpty() ? r.reason() : description + ": " + r.reason();
    }
}
