package io.mayfly.agent.driver.solo5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.mayfly.agent.deploy.GuestKindsContract;
import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.StandIns;
import io.mayfly.agent.driver.TapDevices;
import io.mayfly.wire.manifest.Manifest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;

/**
 * The guest kinds on the solo5-spt driver with a stand-in tender (Solo5 cannot run here) and real taps. The stand-in
 * parses the tender's command line, and plays the unikernel on the other end of the instance's tap: it runs
 * testserver as the guest at the tap's guest address, which it gives the host's loopback for the guest's life
 * ({@link StandIns#guestOnLoopback}), so the TCP check connects to the guest itself and the HTTP check goes through the
 * agent's forwarder, as they would to a real guest. testserver is not MirageOS: it is told its address and port
 * through the placeholders {@code {ipv4}} and {@code {port}}, and gets no MirageOS arguments.
 */
class StandInSolo5GuestKindsTest extends GuestKindsContract {
    /**
     * A stand-in solo5-spt that plays its guest: the tender's options as the real one takes them (--mem=, --net:NAME=TAP,
     * --block:NAME=FILE, then -- and the unikernel), the guest at the address after the tap's own (the tap is the
     * host's end of a /30), its console the tender's output.
     */
    private static final String TENDER = """
            #!/bin/sh
            prog=${0##*/}
            tap=
            while [ $# -gt 0 ]; do
              case "$1" in
                --mem=*|--block:?*=?*) ;;
                --net:?*=?*) tap=${1#*=} ;;
                --) shift; break ;;
                -*) echo "$prog: Invalid option: \\`$1'" >&2; exit 1 ;;
                *) break ;;
              esac
              shift
            done
            [ $# -gt 0 ] || { echo "$prog: Missing KERNEL operand" >&2; exit 1; }
            kernel=$1; shift
            host=$('@IP@' -4 -o addr show dev "$tap" | sed -n 's|.* inet \\([0-9.]*\\)/.*|\\1|p')
            [ -n "$host" ] || { echo "$prog: no tap $tap with an address" >&2; exit 1; }
            guest=${host%.*}.$(( ${host##*.} + 1 ))
            echo "$prog stand-in: $kernel on $tap as $guest"
            exec '@GUEST@' "$guest" "$kernel" "$@"
            """;
    /** Solo5's own test programs name their network device service0: any name is attached. */
    private static final String MANIFEST =
            "{ \"type\": \"solo5.manifest\", \"version\": 1, \"devices\": [ { \"name\": \"service0\", \"type\": \"NET_BASIC\" } ] }";

    private Path standIns;

    @BeforeAll
    static void realTaps() {
        assumeThat(StandIns.loopbackProblem())
                .as("real taps and loopback addresses (root with ip)")
                .isNull();
    }

    @Override
    protected List<Driver> drivers(Path dir) throws Exception {
        standIns = dir.resolve("stand-ins");
        Path guest = StandIns.guestOnLoopback(standIns);
        Path ip = io.mayfly.agent.driver.VmHost.executable("ip", "/usr/sbin", "/sbin")
                .orElseThrow();
        Path tender = StandIns.script(
                standIns, "solo5-spt", TENDER.replace("@IP@", ip.toString()).replace("@GUEST@", guest.toString()));
        Path elftool = StandIns.script(standIns, "solo5-elftool", "#!/bin/sh\necho '" + MANIFEST + "'\n");
        return List.of(new Solo5Driver(Solo5Driver.Tender.SPT, tender, elftool, new TapDevices(), Path.of("/")));
    }

    @Override
    protected void afterInstancesStopped() throws Exception {
        assertThat(StandIns.loopbackLeftovers(standIns))
                .as("guest addresses left on lo")
                .isEmpty();
    }

    @Override
    protected Manifest.Run run() {
        return runOn("solo5-spt");
    }

    @Override
    protected List<String> serving() {
        return List.of("--bind", "{ipv4}", "--port", "{port}");
    }
}
