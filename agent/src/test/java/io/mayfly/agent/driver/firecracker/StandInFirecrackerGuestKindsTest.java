package io.mayfly.agent.driver.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.mayfly.agent.deploy.GuestKindsContract;
import io.mayfly.agent.driver.Driver;
import io.mayfly.agent.driver.StandIns;
import io.mayfly.agent.driver.TapDevices;
import io.mayfly.wire.manifest.Manifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;

/**
 * The guest kinds on the firecracker driver with a stand-in Firecracker (it cannot run here) and real taps. The
 * stand-in serves Firecracker's API on its socket, takes the driver's configuration, and on InstanceStart plays the
 * microVM: the "kernel" is testserver, run as the guest's init with the arguments after {@code --} on the kernel
 * command line, bound to the address the command line's {@code ip=} gives the guest, which it gives the host's
 * loopback for the guest's life ({@link StandIns#guestOnLoopback}). So the TCP check connects to the guest itself and
 * the HTTP check goes through the agent's forwarder. As Firecracker after a Linux guest's init ends (panic=1, then
 * reboot=k), it prints the kernel's panic line and exits 0.
 */
class StandInFirecrackerGuestKindsTest extends GuestKindsContract {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    /**
     * A stand-in firecracker in Python, which can serve a unix socket: one API request a connection, answered 204 as
     * Firecracker's swagger says; SendCtrlAltDel ends the guest with SIGTERM (as a Linux guest shuts down), SIGTERM to
     * the VMM ends both.
     */
    private static final String FIRECRACKER = """
            #!/usr/bin/python3
            import json, os, re, signal, socket, subprocess, sys, threading
            if len(sys.argv) != 3 or sys.argv[1] != "--api-sock":
                sys.exit("firecracker stand-in: expected --api-sock PATH")
            api = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            api.bind(sys.argv[2])
            api.listen(16)
            config, guest, booted, ctrl_alt_del, terminated = {}, [], threading.Event(), threading.Event(), threading.Event()

            def boot():
                source = config["/boot-source"]
                words = source["boot_args"].split()
                address = next(w for w in words if w.startswith("ip=")).split("=", 1)[1].split(":")[0]
                init = words[words.index("--") + 1:] if "--" in words else []
                guest.append(subprocess.Popen(["@GUEST@", address, source["kernel_image_path"], *init, "--bind", address]))
                booted.set()

            def serve():
                while True:
                    conn, _ = api.accept()
                    with conn:
                        data = b""
                        while b"\\r\\n\\r\\n" not in data:
                            chunk = conn.recv(4096)
                            if not chunk:
                                break
                            data += chunk
                        if b"\\r\\n\\r\\n" not in data:
                            continue  # the driver checking that the socket accepts
                        head, _, body = data.partition(b"\\r\\n\\r\\n")
                        length = re.search(rb"(?i)content-length: *(\\d+)", head)
                        while length and len(body) < int(length.group(1)):
                            body += conn.recv(4096)
                        path = head.split(b" ")[1].decode()
                        config[path] = json.loads(body or b"{}")
                        action = config[path].get("action_type") if path == "/actions" else None
                        if action == "InstanceStart":
                            boot()
                        elif action == "SendCtrlAltDel" and guest:
                            ctrl_alt_del.set()
                            guest[0].send_signal(signal.SIGTERM)
                        conn.sendall(b"HTTP/1.1 204 \\r\\nServer: Firecracker API\\r\\n\\r\\n")

            def on_term(signum, frame):
                terminated.set()
                if guest:
                    guest[0].send_signal(signal.SIGTERM)
                else:
                    os._exit(143)

            signal.signal(signal.SIGTERM, on_term)
            threading.Thread(target=serve, daemon=True).start()
            print("firecracker stand-in: running, API on " + sys.argv[2], flush=True)
            while not booted.wait(0.1):
                pass
            code = guest[0].wait()
            if terminated.is_set():
                print("firecracker stand-in: got SIGTERM", file=sys.stderr, flush=True)
                os._exit(143)
            if ctrl_alt_del.is_set():
                print("reboot: Restarting system", flush=True)
            else:
                print("Kernel panic - not syncing: Attempted to kill init! exitcode=0x%08x" % ((code & 0xff) << 8), flush=True)
            os._exit(0)
            """;

    private Path standIns;

    @BeforeAll
    static void realTapsAndPython() {
        assumeThat(StandIns.loopbackProblem())
                .as("real taps and loopback addresses (root with ip)")
                .isNull();
        assumeThat(Files.isExecutable(PYTHON))
                .as("the stand-in Firecracker is a Python script")
                .isTrue();
    }

    @Override
    protected List<Driver> drivers(Path dir) throws Exception {
        standIns = dir.resolve("stand-ins");
        Path guest = StandIns.guestOnLoopback(standIns);
        Path firecracker = StandIns.script(standIns, "firecracker", FIRECRACKER.replace("@GUEST@", guest.toString()));
        return List.of(new FirecrackerDriver(
                firecracker, new TapDevices(), StandIns.host(dir), FirecrackerDriver.SOCKET_WAIT));
    }

    @Override
    protected void afterInstancesStopped() throws Exception {
        assertThat(StandIns.loopbackLeftovers(standIns))
                .as("guest addresses left on lo")
                .isEmpty();
    }

    @Override
    protected Manifest.Run run() {
        return runOn("firecracker");
    }

    /** What follows "--" on the kernel command line goes to init, here the server; the stand-in adds --bind with the guest's address. */
    @Override
    protected List<String> serving() {
        return List.of("--", "--port", "8080");
    }

    @Override
    protected List<String> quiet() {
        return List.of("--");
    }
}
