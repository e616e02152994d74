package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A locked app refuses every kind of deploy until unlocked, and every change is in the audit log with its token. */
class LockAndAuditTest {
    @TempDir
    Path tmp;

    @Test
    void aLockBlocksPushesRollbacksAndConfigChangesUntilUnlockAndTheAuditLogSaysWhoDidWhat() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            mayfly.cli("apps:create", "frozen");
            Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("frozen"));
            MayflyProcess.setVersion(repo, "frozen-1");
            assertThat(mayfly.push(repo, "frozen", "v1").exit()).isZero();
            MayflyProcess.setVersion(repo, "frozen-2");
            assertThat(mayfly.push(repo, "frozen", "v2").exit()).isZero();

            MayflyProcess.Result lock = mayfly.cli("lock", "-a", "frozen", "--reason", "incident 42");
            assertThat(lock.exit()).as(lock.out()).isZero();

            MayflyProcess.setVersion(repo, "frozen-3");
            MayflyProcess.Result push = mayfly.push(repo, "frozen", "v3");
            assertThat(push.exit()).isNotZero();
            assertThat(push.out()).contains("locked").contains("incident 42");
            MayflyProcess.Result rollback = mayfly.cli("rollback", "-a", "frozen");
            assertThat(rollback.exit()).isEqualTo(1);
            assertThat(rollback.out()).contains("locked");
            assertThat(mayfly.cli("config:set", "-a", "frozen", "A=b").out()).contains("locked");
            assertThat(mayfly.visit("frozen", "/").body()).contains("frozen-2");
            assertThat(mayfly.releases("frozen")).hasSize(2);

            assertThat(mayfly.cli("unlock", "-a", "frozen").exit()).isZero();
            MayflyProcess.Result after = mayfly.push(repo, "frozen", "v3 again");
            assertThat(after.exit()).as(after.out()).isZero();
            assertThat(mayfly.visit("frozen", "/").body()).contains("frozen-3");

            String audit = mayfly.cli("audit", "-a", "frozen").out();
            assertThat(audit)
                    .contains("create", "lock", "incident 42", "unlock", "v1: Deploy", "v3: Deploy")
                    .contains("token ");
        }
    }
}
