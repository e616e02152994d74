package io.mayfly.server.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * How a MirageOS project builds when its mayfly.toml gives no {@code [build] command}: a repository with a
 * {@code config.ml} at its root is configured for the target its driver boots ({@code mirage configure -t TARGET}),
 * then {@code make depend} and {@code make build}, as MirageOS 4 documents. The image lands in {@code dist/}
 * ({@code dist/NAME.hvt}, {@code dist/NAME.virtio}, ...), found there by {@link #findImage} unless {@code [build]
 * artifact} names it. When the builder
 * lacks {@code mirage} (or {@code opam}), the build stops at once and says what to install.
 */
public final class MirageRecipe {
    /** The MirageOS target for each driver that can boot a MirageOS unikernel. */
    private static final Map<String, String> TARGETS =
            Map.of("solo5-hvt", "hvt", "solo5-spt", "spt", "qemu", "virtio", "xen", "xen", "process", "unix");

    /** Where MirageOS 4 leaves the image; as a build output, every file directly in it. */
    public static final String DIST = "dist/";

    private MirageRecipe() {}

    /**
     * The image a MirageOS build left for the driver's target, relative to the checkout: the one file in dist/
     * named {@code NAME.TARGET} (or, for unix, the one executable without an extension). Says what dist/ holds
     * when there is none or more than one, so that {@code [build] artifact} can name it.
     */
    public static String findImage(Path work, String driver) throws IOException {
        String target = target(driver);
        Path dist = work.resolve(DIST);
        List<String> all = new ArrayList<>();
        if (Files.isDirectory(dist)) {
            try (Stream<Path> files = Files.list(dist)) {
                files.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                        .map(p -> p.getFileName().toString())
                        .sorted()
                        .forEach(all::add);
            }
        }
        List<String> images = all.stream()
                .filter(name -> target.equals("unix")
                        ? !name.contains(".") && Files.isExecutable(dist.resolve(name))
                        : name.endsWith("." + target))
                .toList();
        String wanted = target.equals("unix") ? "an executable without an extension" : "a file named NAME." + target;
        if (images.size() == 1) return DIST + images.getFirst();
        throw new IOException("the MirageOS build for " + driver + " left "
                + (images.isEmpty() ? "no image" : images.size() + " images")
                + " in dist/ (" + wanted + "); dist/ holds: " + (all.isEmpty() ? "nothing" : String.join(", ", all))
                + "; name the image with [build] artifact = \"dist/...\" in mayfly.toml");
    }

    /** The MirageOS target for a driver; an error that lists the supported ones when there is none. */
    public static String target(String driver) {
        String target = TARGETS.get(driver);
        if (target == null) {
            throw new IllegalArgumentException("a MirageOS project (config.ml) cannot be built for the " + driver
                    + " driver: MirageOS targets exist for solo5-hvt (hvt), solo5-spt (spt), qemu (virtio), xen (xen) and process (unix); "
                    + "choose one of those in [run] driver, or give a [build] command");
        }
        return target;
    }

    /** The shell command of the recipe for a driver. */
    public static String command(String driver) {
        String target = target(driver);
        return String.join(
                "\n",
                "command -v mirage >/dev/null 2>&1 || { echo 'mayfly: this is a MirageOS project (config.ml) but mirage is not installed "
                        + "on the builder. Install opam (apt-get install opam; opam init), then: opam install mirage, and put ~/.opam/default/bin "
                        + "on the PATH of the user that runs mayfly server. Or give mayfly.toml a [build] command.'; exit 127; }",
                "command -v opam >/dev/null 2>&1 || { echo 'mayfly: mirage is installed but opam is not: make depend needs opam to install "
                        + "the unikernel'\"'\"'s libraries'; exit 127; }",
                "set -ex",
                "mirage configure -t " + target,
                "make depend",
                "make build",
                "ls -l dist/");
    }

    /** The one-line description shown as the build's command. */
    public static String describe(String driver) {
        return "MirageOS: mirage configure -t " + target(driver) + " && make depend && make build";
    }
}
