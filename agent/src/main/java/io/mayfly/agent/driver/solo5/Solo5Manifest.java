package io.mayfly.agent.driver.solo5;

import com.fasterxml.jackson.databind.JsonNode;
import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.HostCommand;
import io.mayfly.wire.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The devices a Solo5 unikernel declares in the manifest built into it, as {@code solo5-elftool query-manifest
 * UNIKERNEL} prints them. The tender attaches devices by these names and refuses to run a unikernel whose declared
 * devices are not all attached, so the manifest, not a convention, says what to attach.
 *
 * <p>The output is the manifest's JSON form, the same one a unikernel's build feeds to {@code solo5-elftool
 * gen-manifest}: {@code {"type": "solo5.manifest", "version": 1, "devices": [{"name": "service", "type":
 * "NET_BASIC"}, {"name": "storage", "type": "BLOCK_BASIC"}]}}. Taken from Solo5's elftool/elftool.c (the source
 * form: version 1, devices with an alphanumeric name and a type), MirageOS's lib/mirage_configure_solo5.ml (which
 * writes it with "type": "solo5.manifest" and the types NET_BASIC and BLOCK_BASIC), and robur's
 * ocaml-solo5-elftool, whose query-manifest mirrors Solo5's ("similar style as solo5-elftool query-manifest",
 * lib/solo5_elftool.mli; test/osolo5-elftool.t shows {@code { "type": "solo5.manifest", "version": 1, "devices": [ ] }}).
 */
record Solo5Manifest(List<Device> devices) {
    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(10);

    /** The device types Solo5's tenders attach: a network interface on a tap, a block device on a file. */
    enum Type {
        NET_BASIC,
        BLOCK_BASIC
    }

    record Device(String name, Type type) {}

    /** The names of the devices of type {@code type}, in the manifest's order. */
    List<String> named(Type type) {
        return devices.stream().filter(d -> d.type() == type).map(Device::name).toList();
    }

    /** Runs {@code elftool query-manifest unikernel} and reads what it prints; {@code what} names the unikernel in errors. */
    static Solo5Manifest query(Path elftool, Path unikernel, String what) throws DriverException {
        String command = elftool.getFileName() + " query-manifest " + unikernel;
        HostCommand.Result result;
        try {
            result =
                    HostCommand.run(QUERY_TIMEOUT, List.of(elftool.toString(), "query-manifest", unikernel.toString()));
        } catch (IOException e) {
            throw new DriverException(
                    "cannot run " + elftool + " to read the Solo5 manifest of " + what + ": " + e.getMessage(), e);
        }
        if (!result.ok()) {
            throw new DriverException(
                    command + " failed (exit " + result.exit() + "): " + result.output() + "; the artifact of " + what
                            + " must be a Solo5 unikernel for this tender (MirageOS: mirage configure -t hvt or -t spt)");
        }
        return parse(result.stdout(), command, what);
    }

    static Solo5Manifest parse(String json, String command, String what) throws DriverException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw unreadable(command, what, "it is not JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) throw unreadable(command, what, "it is not a JSON object");
        if (root.has("type") && !"solo5.manifest".equals(root.get("type").asText())) {
            throw unreadable(command, what, "its type is " + root.get("type") + ", not \"solo5.manifest\"");
        }
        if (root.path("version").asInt(-1) != 1) {
            throw unreadable(command, what, "its version is " + root.path("version") + "; Mayfly reads version 1");
        }
        JsonNode list = root.path("devices");
        if (!list.isArray()) throw unreadable(command, what, "it has no \"devices\" list");
        List<Device> devices = new ArrayList<>();
        for (JsonNode d : list) {
            String name = d.path("name").asText("");
            // Alphanumeric, as Solo5 itself requires: the name goes into a tender option (--net:NAME=...) and a file
            // name.
            if (!name.matches("[A-Za-z0-9]+"))
                throw unreadable(command, what, "a device's name is not alphanumeric: " + d);
            String type = d.path("type").asText("");
            Type known = Arrays.stream(Type.values())
                    .filter(t -> t.name().equals(type))
                    .findFirst()
                    .orElseThrow(() -> new DriverException("the unikernel of " + what + " declares the device '" + name
                            + "' of type "
                            + (type.isEmpty() ? "(none)" : type) + " in its Solo5 manifest; Mayfly attaches only "
                            + Arrays.stream(Type.values()).map(Type::name).collect(Collectors.joining(" and "))
                            + " devices: build the unikernel without it"));
            devices.add(new Device(name, known));
        }
        return new Solo5Manifest(List.copyOf(devices));
    }

    private static DriverException unreadable(String command, String what, String why) {
        return new DriverException(
                command + " printed no Solo5 manifest Mayfly can read for " + what + " (" + why
                        + "); check that solo5-elftool and the tender come from the same Solo5 release as the unikernel's build");
    }
}
