package io.mayfly.cli;

import io.mayfly.wire.SourceRepository;
import io.mayfly.wire.Views.AppView;
import io.mayfly.wire.Views.CreateApp;
import java.net.URI;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code mayfly apps:create NAME}: a new app and the git remote to push it to. */
@Command(name = "apps:create", mixinStandardHelpOptions = true, description = "Create an app and print its git remote.")
final class AppsCreateCommand extends ClientCommand {
    @Parameters(paramLabel = "NAME", description = "the app's name: a DNS label such as hello or my-api")
    String name;

    @picocli.CommandLine.Option(
            names = "--repo",
            description = "build from this repository elsewhere (https://..., ssh://... or "
                    + "USER@HOST:PATH; webhooks, git:sync, schedules) instead of pushes")
    String repo;

    @picocli.CommandLine.Option(
            names = "--public",
            description = "let anyone read the app's builds and artifacts without a token "
                    + "(mayfly apps:public -a NAME off undoes it)")
    boolean isPublic;

    @picocli.CommandLine.Option(
            names = "--branch",
            defaultValue = "main",
            description = "the branch of --repo that deploys (default: ${DEFAULT-VALUE})")
    String branch;

    @Override
    public Integer call() {
        if (repo != null) {
            // Checked before the app is made, so a refused repository leaves no app behind; the server checks again.
            SourceRepository.whyRefused(repo).ifPresent(why -> {
                throw new CliError("--repo: " + why, SourceRepository.HINT);
            });
            SourceRepository.whyRefusedBranch(branch).ifPresent(why -> {
                throw new CliError("--branch: " + why, "name one branch, such as main");
            });
        }
        AppView app = api().post("/apps", new CreateApp(name, isPublic), AppView.class, ApiClient.DEFAULT_TIMEOUT);
        StringBuilder text = new StringBuilder()
                .append("Created ")
                .append(app.name())
                .append('\n')
                .append("git remote: ")
                .append(app.gitUrl())
                .append('\n')
                .append("push with:  git push ")
                .append(withTokenPlaceholder(app.gitUrl()))
                .append(" HEAD:main\n");
        String tokenSource = api().server().tokenSource();
        if (!tokenSource.contains(ServerAddress.TOKEN_VARIABLE)) {
            // The push needs the token in the environment; say where to get it without printing it.
            text.append("            (first: export ")
                    .append(ServerAddress.TOKEN_VARIABLE)
                    .append("=$(cat ")
                    .append(tokenSource)
                    .append("))\n");
        }
        if (app.url() != null) text.append("app URL:    ").append(app.url()).append(" (after the first push)\n");
        if (app.isPublic())
            text.append(AppsPublicCommand.registryLine(app, api().server().serverUrl()))
                    .append('\n');
        if (repo != null) {
            com.fasterxml.jackson.databind.JsonNode source = api().put(
                            appPath(name) + "/source",
                            java.util.Map.of("repo", repo, "branch", branch),
                            com.fasterxml.jackson.databind.JsonNode.class);
            text.append("builds from: ")
                    .append(repo)
                    .append(" (")
                    .append(branch)
                    .append(")\n")
                    .append("webhook:     ")
                    .append(source.path("hookUrl").asText())
                    .append("  (content type application/json, push events)\n")
                    .append("secret:      ")
                    .append(source.path("hookSecret").asText())
                    .append("  (shown once: paste it into the webhook's secret or token)\n")
                    .append("first build: mayfly git:sync -a ")
                    .append(name)
                    .append(" --build\n");
        }
        print(text.toString());
        return 0;
    }

    /** git authenticates with HTTP basic auth: user "mayfly", the token as password, left as a shell variable. */
    static String withTokenPlaceholder(String gitUrl) {
        URI uri = URI.create(gitUrl);
        return uri.getScheme() + "://mayfly:$" + ServerAddress.TOKEN_VARIABLE + "@" + uri.getRawAuthority()
                + uri.getRawPath();
    }
}
