package io.mayfly.agent.driver.qemu;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A minimal client of QEMU's machine protocol (QMP) over its unix socket: one command, its answer. */
final class Qmp {
    private Qmp() {}

    /** Sends {@code command} (e.g. system_powerdown, quit) after the capabilities handshake; returns QEMU's answer line. */
    static String execute(Path socket, String command) throws IOException {
        return send(socket, "{\"execute\":\"" + command + "\"}");
    }

    /** Runs a monitor command (e.g. {@code info usernet}) and returns the text it printed. */
    static String monitor(Path socket, String commandLine) throws IOException {
        String answer = send(
                socket,
                "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":"
                        + io.mayfly.wire.Json.write(commandLine) + "}}");
        var tree = io.mayfly.wire.Json.MAPPER.readTree(answer);
        if (!tree.has("return")) throw new IOException("QEMU refused \"" + commandLine + "\": " + answer);
        return tree.get("return").asText();
    }

    private static String send(Path socket, String command) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
            OutputStream out = Channels.newOutputStream(ch);
            String greeting = in.readLine();
            if (greeting == null || !greeting.contains("QMP")) throw new IOException("not a QMP socket: " + socket);
            send(out, "{\"execute\":\"qmp_capabilities\"}");
            answer(in);
            send(out, command);
            return answer(in);
        }
    }

    private static void send(OutputStream out, String json) throws IOException {
        out.write((json + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Skips asynchronous events; returns the command's own answer. */
    private static String answer(BufferedReader in) throws IOException {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.contains("\"return\"") || line.contains("\"error\"")) return line;
        }
        return "";
    }
}
