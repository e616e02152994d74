package io.mayfly.agent.driver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * For testing drivers whose real tools (Solo5's tenders and elftool, xl, firecracker) are not installed where
 * Mayfly is developed: stand-in scripts, a stand-in host tree (dev/kvm, dev/net/tun, proc/self/status,
 * sys/class/net), a stand-in {@code ip} that acts on it, instance specs.
 */
public final class StandIns {
    private StandIns() {}

    /** Writes an executable stand-in script {@code dir/name}. */
    public static Path script(Path dir, String name, String text) throws IOException {
        Path script = Files.createDirectories(dir).resolve(name);
        Files.writeString(script, text);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    /**
     * A stand-in for the host's root directory: a usable dev/kvm and dev/net/tun, an agent running as root with all
     * capabilities (proc/self/status), and no network interfaces yet (sys/class/net).
     */
    public static Path host(Path dir) throws IOException {
        Path root = dir.resolve("host");
        Files.createDirectories(root.resolve("dev/net"));
        Files.createDirectories(root.resolve("sys/class/net"));
        Files.writeString(root.resolve("dev/kvm"), "");
        Files.writeString(root.resolve("dev/net/tun"), "");
        agentStatus(root, 0, "000001ffffffffff", "0000000000000000");
        return root;
    }

    /** The taps on the stand-in host, as {@code ip} on it made them. */
    public static TapDevices taps(Path dir, Path host) throws IOException {
        return new TapDevices(ip(dir, host), host);
    }

    /** Writes the stand-in host's proc/self/status: the agent's user id and its effective and ambient capabilities (hex). */
    public static void agentStatus(Path host, int uid, String capEff, String capAmb) throws IOException {
        Files.createDirectories(host.resolve("proc/self"));
        Files.writeString(
                host.resolve("proc/self/status"),
                "Name:\tjava\nUid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid
                        + "\nCapInh:\t0000000000000000\nCapPrm:\t" + capEff + "\nCapEff:\t" + capEff
                        + "\nCapBnd:\t000001ffffffffff"
                        + "\nCapAmb:\t" + capAmb + "\n");
    }

    /**
     * Stand-in for {@code ip}, acting on the stand-in host tree: {@code tuntap add|del dev NAME mode tap} creates or
     * removes {@code sys/class/net/NAME} (adding an existing one fails, as TUNSETIFF does, and so does deleting one
     * that holds a file {@code held}, as a tap in use does), {@code addr add} and {@code link set} need the device.
     * Each call is recorded, one line of arguments, in {@code ip.log} next to the script. A test makes the calls
     * starting with some words fail, as without CAP_NET_ADMIN, by writing those words to {@code ip.fail}.
     */
    public static Path ip(Path dir, Path host) throws IOException {
        Path net = Files.createDirectories(host.resolve("sys/class/net"));
        return script(dir, "ip", """
                #!/bin/sh
                echo "$*" >> "$0.log"
                net='@NET@'
                if [ -s "$0.fail" ]; then
                  case "$*" in "$(cat "$0.fail")"*) echo "RTNETLINK answers: Operation not permitted" >&2; exit 2 ;; esac
                fi
                case "$1 $2" in
                  "tuntap add") [ -e "$net/$4" ] && { echo "ioctl(TUNSETIFF): Device or resource busy" >&2; exit 1; }
                                mkdir "$net/$4" && echo 0x1002 > "$net/$4/tun_flags" ;; # IFF_TAP | IFF_NO_PI, as the kernel shows a tap
                  "tuntap del") [ -e "$net/$4/held" ] && { echo "ioctl(TUNSETIFF): Device or resource busy" >&2; exit 1; }
                                rm -rf "$net/$4" ;;
                  "addr add")   [ -d "$net/$5" ] || { echo "Cannot find device \"$5\"" >&2; exit 1; }
                                echo "$3" >> "$net/$5/addresses" ;;
                  "link set")   [ -d "$net/$4" ] || { echo "Cannot find device \"$4\"" >&2; exit 1; }
                                echo "$5" > "$net/$4/operstate" ;;
                  *) echo "ip stand-in: unexpected: $*" >&2; exit 1 ;;
                esac
                """.replace("@NET@", net.toAbsolutePath().toString()));
    }

    /** The calls the stand-in {@code ip} in {@code dir} received, one line each. */
    public static List<String> ipCalls(Path dir) throws IOException {
        Path log = dir.resolve("ip.log");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    /** A spec for instance {@code id} of app hello v3, 128 MiB, 2 vCPUs, guest port 8080, its files under {@code dir}. */
    public static InstanceSpec spec(Path dir, String id, Path artifact, Path initrd, List<String> args) {
        Path stateDir = dir.resolve("instances").resolve(id);
        int port = Ports.freeLoopbackPort();
        return new InstanceSpec(
                id,
                "hello",
                3,
                artifact,
                initrd,
                args,
                Map.of("PORT", Integer.toString(port)),
                128L << 20,
                port,
                8080,
                stateDir.resolve("console.log"),
                stateDir,
                Duration.ofSeconds(5),
                2,
                true);
    }

    /** Whether something accepts TCP connections on 127.0.0.1:{@code port}. */
    public static boolean acceptsOnLoopback(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (ConnectException refused) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits up to 10 s for {@code file} to contain {@code text}; returns the file's contents. */
    public static String await(Path file, String text) throws IOException, InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < end) {
            if (Files.exists(file) && Files.readString(file).contains(text)) return Files.readString(file);
            Thread.sleep(20);
        }
        throw new AssertionError(file + " never showed \"" + text + "\"; it has:\n"
                + (Files.exists(file) ? Files.readString(file) : "(no file)"));
    }

    /**
     * Stand-in for a guest on a tap, for stand-in tenders and VMMs that run a real program as their guest:
     * {@code guest-on-loopback ADDRESS PROGRAM ARGS...} gives the host's loopback the guest's ADDRESS (a /32), so that
     * the host reaches PROGRAM bound there as it reaches a guest behind its tap (the agent's forwarder and a TCP
     * check alike), runs PROGRAM with the script's output as its console, passes SIGTERM on to it, removes the
     * address once it has ended and exits as it did. Each address it adds is recorded in
     * {@code guest-on-loopback.addresses} beside it, for {@link #loopbackLeftovers}. Needs the real {@code ip} and
     * CAP_NET_ADMIN ({@link #loopbackProblem}).
     */
    public static Path guestOnLoopback(Path dir) throws IOException {
        return script(dir, "guest-on-loopback", """
                #!/bin/sh
                address=$1; shift
                guest=; stopping=
                trap 'stopping=1; [ -n "$guest" ] && kill -TERM "$guest" 2>/dev/null' TERM
                '@IP@' addr add "$address/32" dev lo || exit 1
                echo "$address" >> "$0.addresses"
                "$@" &
                guest=$!
                [ -n "$stopping" ] && kill -TERM "$guest" 2>/dev/null
                wait "$guest"; code=$?
                # A trapped SIGTERM ends the first wait early: wait again for the guest's own end and its exit code.
                while kill -0 "$guest" 2>/dev/null; do wait "$guest"; code=$?; done
                '@IP@' addr del "$address/32" dev lo
                exit $code
                """.replace("@IP@", realIp().toString()));
    }

    /** Why guest-on-loopback cannot run here (no ip, or no right to add addresses), or null. */
    public static String loopbackProblem() {
        if (VmHost.executable("ip", "/usr/sbin", "/sbin").isEmpty()) return "ip (iproute2) is not installed";
        return new TapDevices().problem().orElse(null);
    }

    /**
     * The addresses guest-on-loopback in {@code dir} added to the loopback and did not remove within a few seconds
     * (its guests may still be ending): they are removed now, and returned so that a test can fail on them.
     */
    public static List<String> loopbackLeftovers(Path dir) throws IOException, InterruptedException {
        Path record = dir.resolve("guest-on-loopback.addresses");
        if (!Files.exists(record)) return List.of();
        List<String> added = Files.readAllLines(record).stream().distinct().toList();
        long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        List<String> left = onLoopback(added);
        while (!left.isEmpty() && System.nanoTime() < end) {
            Thread.sleep(50);
            left = onLoopback(added);
        }
        for (String address : left) {
            new ProcessBuilder(realIp().toString(), "addr", "del", address + "/32", "dev", "lo")
                    .inheritIO()
                    .start()
                    .waitFor();
        }
        return left;
    }

    private static List<String> onLoopback(List<String> addresses) throws IOException {
        java.net.NetworkInterface lo = java.net.NetworkInterface.getByName("lo");
        List<String> present = lo == null
                ? List.of()
                : lo.inetAddresses().map(InetAddress::getHostAddress).toList();
        return addresses.stream().filter(present::contains).toList();
    }

    private static Path realIp() {
        return VmHost.executable("ip", "/usr/sbin", "/sbin")
                .orElseThrow(() -> new IllegalStateException("ip is not installed"));
    }
}
