package io.mayfly.cli;

import io.mayfly.wire.Views.ReleaseView;
import io.mayfly.wire.Views.Rollback;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code mayfly rollback -a APP [vN]}: deploys an earlier release again as a new release, and says how to undo it
 * (rolling back to the release that was live before).
 */
@Command(
        name = "rollback",
        mixinStandardHelpOptions = true,
        description = "Deploy an earlier release again (default: the one before the live release).")
final class RollbackCommand extends ClientCommand {
    /** The server boots and health-checks the release before answering. */
    static final Duration DEPLOY_TIMEOUT = Duration.ofMinutes(5);

    private static final Pattern VERSION = Pattern.compile("[vV]?(\\d+)");

    @Mixin
    AppOption app;

    @Parameters(arity = "0..1", paramLabel = "vN", description = "the release to go back to, as vN or N")
    String version;

    @Override
    public Integer call() {
        Integer requested = version == null ? null : parseVersion(version);
        String path = appPath(app.name);
        List<ReleaseView> before = api().getList(path + "/releases", ReleaseView.class);
        Optional<ReleaseView> wasLive = before.stream()
                .filter(r -> ReleasesCommand.LIVE.equals(r.status()))
                .findFirst();
        Optional<Integer> target = requested != null ? Optional.of(requested) : previousSuccessful(before, wasLive);

        err().println("Rolling back " + app.name + target.map(v -> " to v" + v).orElse("")
                + " (deploying; this can take a minute)...");
        err().flush();
        ReleaseView now = api().post(path + "/rollback", new Rollback(requested), ReleaseView.class, DEPLOY_TIMEOUT);

        print("Rolled back " + app.name + target.map(v -> " to v" + v).orElse("") + ": now live as v" + now.version()
                + " (sha256:" + HumanFormat.sha12(now.sha256()) + "...)\n");
        wasLive.ifPresent(r -> print("Undo with: mayfly rollback -a " + app.name + " v" + r.version() + "\n"));
        return 0;
    }

    static int parseVersion(String text) {
        Matcher m = VERSION.matcher(text.strip());
        if (!m.matches()) {
            throw new CliError(
                    "'" + text + "' is not a release version",
                    "write it as vN or N, e.g. v3; see mayfly releases -a APP");
        }
        try {
            return Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            throw new CliError("'" + text + "' is not a release version", "write it as vN or N, e.g. v3");
        }
    }

    /** Mirrors the server's choice when no version is given: the newest release below the live one that once served. */
    private static Optional<Integer> previousSuccessful(List<ReleaseView> releases, Optional<ReleaseView> live) {
        int below = live.map(ReleaseView::version).orElse(Integer.MAX_VALUE);
        return releases.stream()
                .filter(r -> r.version() < below && "superseded".equals(r.status()))
                .map(ReleaseView::version)
                .max(Integer::compare);
    }
}
