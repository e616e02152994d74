package io.mayfly.server.build;

import java.util.Map;

/**
 * How a MirageOS project builds when its mayfly.toml gives no {@code [build] command}: a repository with a
 * {@code config.ml} at its root is configured for the target its driver boots ({@code mirage configure -t TARGET}),
 * then {@code make depend} and {@code make build}, as MirageOS 4 documents. The image lands in {@code dist/}
 * ({@code dist/NAME.hvt}, {@code dist/NAME.virtio}, ...), which {@code [build] artifact} names. When the builder
 * lacks {@code mirage} (or {@code opam}), the build stops at once and says what to install.
 */
public final class MirageRecipe {
    /** The MirageOS target for each driver that can boot a MirageOS unikernel. */
    private static final Map<String, String> TARGETS = Map.of(
            "solo5-hvt", "hvt", "solo5-spt", "spt", "qemu", "virtio", "xen", "xen", "process", "unix");

    private MirageRecipe() {}

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
        return String.join("\n",
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
