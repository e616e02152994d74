package io.mayfly.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mayfly builds:prune [--dry-run]}: retention, now; the server also prunes every hour. */
@Command(
        name = "builds:prune",
        mixinStandardHelpOptions = true,
        description =
                "Remove old builds (keeping the last N per app and every build a release names) and unnamed blobs.")
final class PruneCommand extends ClientCommand {
    @Option(names = "--dry-run", description = "say what would be removed, remove nothing")
    boolean dryRun;

    @Override
    public Integer call() {
        JsonNode answer = api().post(
                        "/prune" + (dryRun ? "?dry_run=true" : ""), Map.of(), JsonNode.class, Duration.ofMinutes(10));
        JsonNode r = answer.path("report");
        StringBuilder text = new StringBuilder(dryRun ? "Would remove" : "Removed");
        text.append(' ')
                .append(r.path("builds").size())
                .append(" build(s) and ")
                .append(r.path("blobs").asInt())
                .append(" blob(s), freeing ")
                .append(HumanFormat.size(r.path("bytes").asLong()))
                .append(" (keeping the last ")
                .append(answer.path("keepBuilds").asInt())
                .append(" builds of each app and every build a release names)\n");
        r.path("builds")
                .forEach(b -> text.append("  ")
                        .append(b.path("app").asText())
                        .append(" #")
                        .append(b.path("build").asInt())
                        .append('\n'));
        print(text.toString());
        return 0;
    }
}
