package io.mayfly.server.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mayfly.wire.manifest.Manifest;
import io.mayfly.wire.manifest.ManifestException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a push's mayfly.toml is taken from its commit. */
class PushPipelineManifestTest {
    @TempDir
    Path dir;

    @Test
    void aPushedManifestOverTheLimitIsRefusedByItsSize() throws Exception {
        try (Git git =
                Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call()) {
            String text = "[build]\nartifact = \"hello\"\n#" + "x".repeat(20 * 1024 * 1024) + "\n";
            Files.writeString(dir.resolve("mayfly.toml"), text);
            RevCommit commit = commit(git);
            ManifestException e = catchThrowableOfType(
                    ManifestException.class, () -> PushPipeline.readManifest(git.getRepository(), commit));
            assertThat(e).isNotNull();
            assertThat(e.getMessage())
                    .startsWith("mayfly.toml: the file is " + text.length()
                            + " bytes (20.0 MiB); a manifest may be at most 65536 bytes");
        }
    }

    @Test
    void aPushedManifestWithinTheLimitIsRead() throws Exception {
        try (Git git =
                Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call()) {
            String text = "[build]\nartifact = \"hello\"\n#" + "x".repeat(Manifest.MAX_BYTES - 30) + "\n";
            Files.writeString(dir.resolve("mayfly.toml"), text);
            assertThat(PushPipeline.readManifest(git.getRepository(), commit(git)))
                    .contains(text);
        }
    }

    private static RevCommit commit(Git git) throws Exception {
        git.add().addFilepattern("mayfly.toml").call();
        return git.commit()
                .setMessage("manifest")
                .setAuthor("t", "t@example.com")
                .setCommitter("t", "t@example.com")
                .setSign(false)
                .call();
    }
}
