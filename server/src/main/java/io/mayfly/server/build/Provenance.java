package io.mayfly.server.build;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.mayfly.wire.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * What went into a build besides its source: the builder's OS, the versions of its tools and every Debian
 * package installed, the command and its environment. {@code inputsDigest} is a sha256 over all of it and the
 * source, so two builds with the same digest had the same inputs.
 */
public record Provenance(
        String source,
        String osRelease,
        Map<String, String> tools,
        Map<String, String> packages,
        Map<String, String> environment,
        String command,
        String inputsDigest) {

    private static final ObjectMapper CANONICAL =
            Json.MAPPER.copy().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
    private static final List<List<String>> TOOLS = List.of(
            List.of("gcc", "--version"),
            List.of("cc", "--version"),
            List.of("make", "--version"),
            List.of("ld", "--version"),
            List.of("ocaml", "-version"),
            List.of("opam", "--version"),
            List.of("mirage", "--version"));
    private static volatile Builder builderFacts;

    /** The facts about this builder, gathered once per process: they do not change while it runs. */
    private record Builder(String osRelease, Map<String, String> tools, Map<String, String> packages) {}

    /** @param source the git commit id, or "upload:sha256" for an uploaded build */
    public static Provenance capture(String source, String command, Map<String, String> environment) {
        Builder b = builder();
        Map<String, String> env = new TreeMap<>(environment);
        String digest = digest(source, b.osRelease(), b.tools(), b.packages(), env, command);
        return new Provenance(source, b.osRelease(), b.tools(), b.packages(), env, command, digest);
    }

    public String toJson() {
        try {
            return CANONICAL.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Provenance fromJson(String json) {
        return Json.read(json, Provenance.class);
    }

    private static String digest(
            String source,
            String os,
            Map<String, String> tools,
            Map<String, String> packages,
            Map<String, String> env,
            String command) {
        try {
            Map<String, Object> inputs = new TreeMap<>();
            inputs.put("source", source);
            inputs.put("osRelease", os);
            inputs.put("tools", new TreeMap<>(tools));
            inputs.put("packages", new TreeMap<>(packages));
            inputs.put("environment", env);
            inputs.put("command", command);
            byte[] canonical = CANONICAL.writeValueAsBytes(inputs);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Builder builder() {
        Builder b = builderFacts;
        if (b == null) {
            synchronized (Provenance.class) {
                if (builderFacts == null)
                    builderFacts = new Builder(readOsRelease(), probeTools(), installedPackages());
                b = builderFacts;
            }
        }
        return b;
    }

    private static String readOsRelease() {
        try {
            for (String line : Files.readAllLines(Path.of("/etc/os-release"))) {
                if (line.startsWith("PRETTY_NAME=")) return line.substring(12).replace("\"", "");
            }
        } catch (IOException ignored) {
            // not every builder has /etc/os-release; say so in the record
        }
        return "unknown";
    }

    private static Map<String, String> probeTools() {
        Map<String, String> tools = new TreeMap<>();
        for (List<String> cmd : TOOLS) {
            String out = firstLine(cmd);
            if (out != null) tools.put(cmd.get(0), out);
        }
        return tools;
    }

    private static Map<String, String> installedPackages() {
        Map<String, String> packages = new TreeMap<>();
        String out = output(List.of("dpkg-query", "-W", "-f", "${Package}=${Version}\\n"));
        if (out != null) {
            for (String line : out.split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) packages.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return packages;
    }

    private static String firstLine(List<String> cmd) {
        String out = output(cmd);
        if (out == null || out.isBlank()) return null;
        return out.lines().findFirst().orElse("").trim();
    }

    private static String output(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] bytes = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) return null;
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
