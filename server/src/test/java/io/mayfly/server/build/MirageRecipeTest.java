package io.mayfly.server.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MirageOS recipe run by /bin/sh as a build runs it. MirageOS is not installed here, so {@code mirage} and
 * {@code opam} are stand-ins: a {@code mirage configure -t T} that writes a Makefile whose {@code depend} and
 * {@code build} targets leave {@code dist/hello.T}, as MirageOS 4's generated Makefile does.
 */
class MirageRecipeTest {
    @TempDir
    Path tmp;

    @Test
    void eachDriverBuildsForItsMirageTargetAndOthersAreRefusedWithTheList() {
        assertThat(MirageRecipe.target("solo5-hvt")).isEqualTo("hvt");
        assertThat(MirageRecipe.target("solo5-spt")).isEqualTo("spt");
        assertThat(MirageRecipe.target("qemu")).isEqualTo("virtio");
        assertThat(MirageRecipe.target("xen")).isEqualTo("xen");
        assertThat(MirageRecipe.target("process")).isEqualTo("unix");
        assertThatThrownBy(() -> MirageRecipe.command("firecracker"))
                .hasMessageContaining("cannot be built for the firecracker driver")
                .hasMessageContaining("solo5-hvt (hvt)");
    }

    @Test
    void theRecipeConfiguresForTheTargetThenRunsMakeDependAndMakeBuild() throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        script(bin.resolve("opam"), "#!/bin/sh\nexit 0\n");
        // Stand-in for mirage: configure writes the Makefile MirageOS would, recording each step.
        script(bin.resolve("mirage"), """
                #!/bin/sh
                [ "$1" = configure ] && [ "$2" = -t ] || { echo "stand-in mirage: unexpected $*" >&2; exit 2; }
                echo "configure $3" >> steps
                printf 'depend:\\n\\techo depend >> steps\\nbuild:\\n\\techo build >> steps; mkdir -p dist; echo image > dist/hello.%s\\n' "$3" > Makefile
                """);
        Path project = Files.createDirectories(tmp.resolve("project"));
        Files.writeString(project.resolve("config.ml"), "(* a MirageOS project *)\n");
        Process p = run(project, bin + ":/usr/bin:/bin", MirageRecipe.command("solo5-hvt"));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(Files.readAllLines(project.resolve("steps"))).containsExactly("configure hvt", "depend", "build");
        assertThat(project.resolve("dist/hello.hvt")).exists();
        assertThat(out).contains("hello.hvt");
    }

    @Test
    void withoutMirageTheBuildStopsAtOnceAndSaysWhatToInstall() throws Exception {
        Path project = Files.createDirectories(tmp.resolve("project"));
        Process p = run(project, "/usr/bin:/bin", MirageRecipe.command("qemu"));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isEqualTo(127);
        assertThat(out).contains("mirage is not installed on the builder", "opam install mirage");
        assertThat(project.resolve("Makefile")).doesNotExist();
    }

    private static Process run(Path dir, String path, String command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", command)
                .directory(dir.toFile())
                .redirectErrorStream(true);
        pb.environment().put("PATH", path);
        return pb.start();
    }

    private static void script(Path file, String text) throws Exception {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void theImageIsFoundInDistByTheTargetsExtensionOrTheErrorSaysWhatIsThere() throws Exception {
        Path work = Files.createDirectories(tmp.resolve("work/dist"));
        Files.writeString(work.resolve("hello.hvt"), "image");
        Files.writeString(work.resolve("hello.spt"), "image");
        Files.writeString(work.resolve("notes.txt"), "not an image");
        assertThat(MirageRecipe.findImage(tmp.resolve("work"), "solo5-hvt")).isEqualTo("dist/hello.hvt");
        assertThat(MirageRecipe.findImage(tmp.resolve("work"), "solo5-spt")).isEqualTo("dist/hello.spt");
        assertThatThrownBy(() -> MirageRecipe.findImage(tmp.resolve("work"), "qemu"))
                .hasMessageContaining("left no image in dist/ (a file named NAME.virtio)")
                .hasMessageContaining("dist/ holds: hello.hvt, hello.spt, notes.txt")
                .hasMessageContaining("[build] artifact");
        Files.writeString(work.resolve("other.hvt"), "image");
        assertThatThrownBy(() -> MirageRecipe.findImage(tmp.resolve("work"), "solo5-hvt"))
                .hasMessageContaining("left 2 images");
        script(work.resolve("hello"), "#!/bin/sh\n");
        assertThat(MirageRecipe.findImage(tmp.resolve("work"), "process")).isEqualTo("dist/hello");
        assertThatThrownBy(() -> MirageRecipe.findImage(tmp.resolve("empty"), "xen"))
                .hasMessageContaining("dist/ holds: nothing");
    }
}
