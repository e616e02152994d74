package io.mayfly.server.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mayfly.server.http.Access;
import io.mayfly.server.http.ApiError;
import io.mayfly.server.store.Apps;
import io.mayfly.server.store.Database;
import io.mayfly.server.store.Tokens;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who may read an app's registry ({@link Access#mayReadRegistry}, {@link Access#readRegistry}), and that public grants nothing else. */
class RegistryReadRuleTest {
    static final Apps.App SITE = new Apps.App("site", Instant.EPOCH, true);
    static final Apps.App VAULT = new Apps.App("vault", Instant.EPOCH, false);
    static final Optional<Tokens.Token> ANONYMOUS = Optional.empty();
    static final Optional<Tokens.Token> ADMIN = token("admin", null);
    static final Optional<Tokens.Token> READS_VAULT = token("read", "vault");
    static final Optional<Tokens.Token> DEPLOYS_OTHER = token("deploy", "other");
    static final Optional<Tokens.Token> HOST_NAMED_VAULT = token("agent", "vault");

    @TempDir
    Path dir;

    private Access access() {
        return new Access(new Tokens(Database.sqlite(dir.resolve("m.db"))));
    }

    @Test
    void anyoneReadsAPublicAppsRegistryWithOrWithoutAToken() {
        Access access = access();
        for (var caller : java.util.List.of(ANONYMOUS, ADMIN, READS_VAULT, DEPLOYS_OTHER, HOST_NAMED_VAULT)) {
            assertThat(access.mayReadRegistry(caller, SITE))
                    .as(String.valueOf(caller))
                    .isTrue();
            assertThat(access.readRegistry(caller, "site", Optional.of(SITE))).isEqualTo(SITE);
        }
    }

    @Test
    void aPrivateAppsRegistryNeedsATokenThatMayReadTheApp() {
        Access access = access();
        assertThat(access.mayReadRegistry(ADMIN, VAULT)).isTrue();
        assertThat(access.mayReadRegistry(READS_VAULT, VAULT)).isTrue();
        assertThat(access.mayReadRegistry(ANONYMOUS, VAULT)).isFalse();
        assertThat(access.mayReadRegistry(DEPLOYS_OTHER, VAULT)).isFalse();
        assertThat(access.mayReadRegistry(HOST_NAMED_VAULT, VAULT))
                .as("an agent token names a host, not the app")
                .isFalse();

        assertThat(refusal(access, ANONYMOUS, "vault", Optional.of(VAULT)).status())
                .isEqualTo(401);
        assertThat(refusal(access, DEPLOYS_OTHER, "vault", Optional.of(VAULT)).status())
                .isEqualTo(403);
        assertThat(access.readRegistry(READS_VAULT, "vault", Optional.of(VAULT)))
                .isEqualTo(VAULT);
    }

    @Test
    void noRefusalTellsAPrivateAppFromOneThatDoesNotExist() {
        Access access = access();
        ApiError privateApp = refusal(access, ANONYMOUS, "vault", Optional.of(VAULT));
        ApiError noApp = refusal(access, ANONYMOUS, "vault", Optional.empty());
        assertThat(noApp.status()).isEqualTo(privateApp.status()).isEqualTo(401);
        assertThat(noApp.getMessage()).isEqualTo(privateApp.getMessage());

        assertThat(refusal(access, DEPLOYS_OTHER, "vault", Optional.empty()).status())
                .isEqualTo(403);
        ApiError gone = refusal(access, ADMIN, "vault", Optional.empty());
        assertThat(gone.status())
                .as("only a token that could read it learns it does not exist")
                .isEqualTo(404);
        assertThat(gone.getMessage()).isEqualTo("no app named vault");
    }

    @Test
    void aPublicRegistryGrantsNothingButReadingIt() {
        Access access = access();
        // Every other route asks require/allows, which know nothing of public: a stranger's token is refused there.
        for (Access.Need need : Access.Need.values()) {
            assertThat(access.allows(DEPLOYS_OTHER.orElseThrow(), need, "site"))
                    .as(need.name())
                    .isFalse();
        }
        ApiError refused = catchThrowableOfType(
                ApiError.class, () -> access.require(DEPLOYS_OTHER.orElseThrow(), Access.Need.read, "site"));
        assertThat(refused.status()).isEqualTo(403);
        assertThat(access.mayReadRegistry(ANONYMOUS, new Apps.App("site", Instant.EPOCH, false)))
                .as("made private again")
                .isFalse();
    }

    private static ApiError refusal(Access access, Optional<Tokens.Token> caller, String name, Optional<Apps.App> app) {
        ApiError e = catchThrowableOfType(ApiError.class, () -> access.readRegistry(caller, name, app));
        assertThat(e).as("refused").isNotNull();
        return e;
    }

    private static Optional<Tokens.Token> token(String scope, String app) {
        return Optional.of(new Tokens.Token("t-" + scope, scope, app, null, null, null, null));
    }
}
