package io.mayfly.agent.driver;

/**
 * One instance's tap device and the point-to-point /30 it shares with its guest: the host end is the first
 * address, the guest the second. Name and subnet both follow from the loopback port the agent assigned to the
 * instance, which no two running instances share (the instance's {@link PortForwarder} holds it), so neither do
 * their taps or subnets, and a restarted agent can tell which tap was whose.
 *
 * @param name         {@code mf} and the port: at most 7 bytes, well within the 15 a Linux interface name allows
 * @param hostAddress  the host's address on the tap, the guest's gateway
 * @param guestAddress the guest's address
 */
public record Tap(String name, String hostAddress, String guestAddress) {
    public static final int PREFIX_LENGTH = 30;
    public static final String NETMASK = "255.255.255.252";
    /**
     * 10.212.0.0/14. A port is 16 bits and a /30 takes 2 more, so every port gets its own subnet in a /14; a /16
     * would have to share subnets between ports. Private (RFC 1918), and unlikely to be a host's own network.
     */
    static final int RANGE = (10 << 24) | (212 << 16);

    static final String RANGE_CIDR = "10.212.0.0/14";

    /** The tap and /30 of the instance that was assigned loopback port {@code port}. */
    public static Tap forPort(int port) {
        if (port < 1 || port > 65535) throw new IllegalArgumentException("not a TCP port: " + port);
        int subnet = RANGE + (port << 2);
        return new Tap("mf" + port, dotted(subnet + 1), dotted(subnet + 2));
    }

    /** The host's end with its prefix, as {@code ip addr add} takes it. */
    public String hostCidr() {
        return hostAddress + "/" + PREFIX_LENGTH;
    }

    /** The guest's address with its prefix, as MirageOS's {@code --ipv4} takes it. */
    public String guestCidr() {
        return guestAddress + "/" + PREFIX_LENGTH;
    }

    private static String dotted(int address) {
        return (address >>> 24) + "." + ((address >>> 16) & 0xff) + "." + ((address >>> 8) & 0xff) + "."
                + (address & 0xff);
    }
}
