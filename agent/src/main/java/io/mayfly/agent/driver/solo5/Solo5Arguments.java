package io.mayfly.agent.driver.solo5;

import io.mayfly.agent.driver.DriverException;
import io.mayfly.agent.driver.InstanceSpec;
import io.mayfly.agent.driver.Tap;
import io.mayfly.agent.driver.VmHost;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The arguments a Solo5 unikernel gets after the tender's {@code --}: {@code run.args} with the guest's placeholders
 * filled, the guest's address only where the unikernel takes it. Each unikernel reads its command line its own way,
 * and one that is not MirageOS (Solo5's own test_net) rejects an argument it does not know, so MirageOS's
 * {@code --ipv4=GUEST/30 --ipv4-gateway=HOST} go in front only when {@code run.args} pass no address themselves and
 * the image is one that takes them: a MirageOS unikernel parses its command line with the option names compiled
 * into it, so its image holds the bytes {@value #MIRAGE_ADDRESS_OPTION}.
 *
 * <p>The placeholders: {@code {ipv4}} the guest's address ({@code 10.212.0.2}), {@code {cidr}} with its prefix
 * ({@code 10.212.0.2/30}), {@code {netmask}} the prefix as a mask ({@code 255.255.255.252}), {@code {gateway}} the
 * host's end of the tap ({@code 10.212.0.1}), and {@code {port}} the port the guest listens on ({@code run.guest_port},
 * where the agent forwards the instance's port to).
 */
final class Solo5Arguments {
    /** The placeholders that pass the guest its address: any of them in run.args means no address is added. */
    static final Set<String> ADDRESS = Set.of("ipv4", "cidr", "netmask", "gateway");
    /** Every placeholder the Solo5 drivers fill. */
    static final Set<String> PLACEHOLDERS = Set.of("ipv4", "cidr", "netmask", "gateway", "port");
    /** The name of MirageOS's gateway option, as its command-line parser holds it in the image. */
    static final String MIRAGE_ADDRESS_OPTION = "ipv4-gateway";

    private Solo5Arguments() {}

    /** The unikernel's arguments for {@code spec} on {@code tap}; refuses run.args that set MirageOS's address by hand. */
    static List<String> of(InstanceSpec spec, Tap tap, Path unikernel) throws DriverException {
        refuseOwnAddressing(spec);
        Map<String, String> values = new LinkedHashMap<>();
        values.put("ipv4", tap.guestAddress());
        values.put("cidr", tap.guestCidr());
        values.put("netmask", Tap.NETMASK);
        values.put("gateway", tap.hostAddress());
        values.put("port", Integer.toString(spec.guestPort()));
        List<String> args = new ArrayList<>();
        boolean addressed = spec.args().stream().anyMatch(Solo5Arguments::passesAddress);
        if (!addressed && takesMirageAddress(unikernel, spec)) {
            args.addAll(List.of("--ipv4=" + tap.guestCidr(), "--ipv4-gateway=" + tap.hostAddress()));
        } else if (!addressed) {
            VmHost.note(
                    spec.logFile(),
                    "the unikernel of " + spec.app() + " v" + spec.release() + " is not told its address: run.args "
                            + "pass none ({cidr}, {ipv4}, {netmask}, {gateway}) and it does not take MirageOS's --ipv4 and --ipv4-gateway; "
                            + "it is " + tap.guestCidr() + " with gateway " + tap.hostAddress());
        }
        for (String arg : spec.args()) {
            String filled = arg;
            for (var v : values.entrySet()) filled = filled.replace("{" + v.getKey() + "}", v.getValue());
            args.add(filled);
        }
        return args;
    }

    private static boolean passesAddress(String arg) {
        return ADDRESS.stream().anyMatch(name -> arg.contains("{" + name + "}"));
    }

    /** Whether the image holds MirageOS's address option name: read in pieces that overlap by the name's length. */
    static boolean takesMirageAddress(Path unikernel, InstanceSpec spec) throws DriverException {
        int overlap = MIRAGE_ADDRESS_OPTION.length() - 1;
        byte[] buffer = new byte[1 << 16];
        int kept = 0;
        try (InputStream in = Files.newInputStream(unikernel)) {
            int n;
            while ((n = in.read(buffer, kept, buffer.length - kept)) > 0) {
                int end = kept + n;
                // Latin-1 maps each byte to one char, so an ASCII name is found wherever its bytes are.
                if (new String(buffer, 0, end, StandardCharsets.ISO_8859_1).contains(MIRAGE_ADDRESS_OPTION))
                    return true;
                kept = Math.min(overlap, end);
                System.arraycopy(buffer, end - kept, buffer, 0, kept);
            }
            return false;
        } catch (IOException e) {
            throw new DriverException(
                    "cannot read the unikernel of " + spec.app() + " v" + spec.release() + " (" + unikernel + "): "
                            + e.getMessage(),
                    e);
        }
    }

    /** The guest's address is the instance's own /30: MirageOS's options set to anything else would contradict it. */
    private static void refuseOwnAddressing(InstanceSpec spec) throws DriverException {
        for (String arg : spec.args()) {
            if ((arg.startsWith("--ipv4=") || arg.startsWith("--ipv4-gateway=")) && !passesAddress(arg)) {
                throw new DriverException("run.args of " + spec.app() + " v" + spec.release() + " sets " + arg
                        + ", but Mayfly gives each "
                        + "Solo5 guest its own address and gateway, on a tap of its own: remove it from run.args, or pass the guest's "
                        + "own with --ipv4={cidr} and --ipv4-gateway={gateway}");
            }
        }
    }
}
