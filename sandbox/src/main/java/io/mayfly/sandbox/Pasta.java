package io.mayfly.sandbox;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * pasta (from Debian's {@code passt}) attached to a sandbox's network namespace: user-mode networking with no route
 * to the host's loopback. Connections to a forwarded host loopback port are spliced to the sandbox's loopback, so an
 * app that listens on 127.0.0.1 inside is reached as before. One pasta process per sandbox, watched by a shell that
 * ends it once the sandbox's network namespace is gone, whether or not an agent is still there to do it.
 */
public final class Pasta {
    private final Path executable;
    private final boolean root;

    Pasta(Path executable, boolean root) {
        this.executable = executable;
        this.root = root;
    }

    /** pasta from /usr/bin, or null when it is not installed; {@code root}: whether this process runs as root. */
    public static Pasta onThisHost(boolean root) {
        Path p = Path.of("/usr/bin/pasta");
        return Files.isExecutable(p) ? new Pasta(p, root) : null;
    }

    /**
     * Starts pasta on the namespaces of {@code pid} (the sandbox's first process); it writes {@code pidFile} once the
     * namespace is set up, and its messages go to {@code log}.
     */
    public Process attach(long pid, Network network, Path pidFile, Path log) throws IOException {
        List<String> cmd =
                new ArrayList<>(List.of(executable.toString(), "--foreground", "--quiet", "--pid", pidFile.toString()));
        // As root pasta would switch to nobody before it opens the namespace, and then could not; it sandboxes itself.
        if (root) cmd.addAll(List.of("--runas", "0:0"));
        cmd.add("--no-map-gw"); // the gateway address must not lead to the host's loopback
        for (int port : network.inbound()) cmd.addAll(List.of("--tcp-ports", "127.0.0.1/" + port));
        if (network.inbound().isEmpty()) cmd.addAll(List.of("--tcp-ports", "none"));
        for (int port : network.toHost()) cmd.addAll(List.of("--tcp-ns", Integer.toString(port)));
        if (network.toHost().isEmpty()) cmd.addAll(List.of("--tcp-ns", "none"));
        cmd.addAll(List.of("--udp-ports", "none", "--udp-ns", "none"));
        // Without an address and a route the namespace has only its loopback: forwarded ports, no internet.
        if (network.internet()) cmd.add("--config-net");
        // The namespaces are opened by the shell, with this process's rights, and handed to pasta as descriptors: pasta
        // drops its capabilities early, and the sandbox's processes belong to another user.
        String open = "3</proc/" + pid + "/ns/net";
        if (!root) {
            cmd.addAll(List.of("--userns", "/proc/self/fd/4"));
            open += " 4</proc/" + pid + "/ns/user";
        }
        cmd.addAll(List.of("--netns", "/proc/self/fd/3"));
        // pasta does not end when the sandbox does, and nothing of the agent may be there to end it: a shell watches
        // the
        // sandbox's network namespace (by its identity, not its pid, which may be reused) and ends pasta once it is
        // gone;
        // the shell's own end (SIGTERM) ends pasta too, at once: it sleeps in wait, which a signal interrupts.
        String netns =
                Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString();
        String watch = "\"$@\" " + open + " & p=$!; trap 'kill $p 2>/dev/null' TERM INT; "
                + "while [ \"$(readlink /proc/" + pid + "/ns/net 2>/dev/null)\" = '" + netns
                + "' ] && kill -0 $p 2>/dev/null; do sleep 1 & wait $!; done; "
                + "kill $p 2>/dev/null; wait $p";
        List<String> wrapped = new ArrayList<>(List.of("/bin/sh", "-c", watch, "pasta"));
        wrapped.addAll(cmd);
        return new ProcessBuilder(wrapped)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
    }

    @Override
    public String toString() {
        return executable.toString();
    }
}
