package io.mayfly.wire;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of this build of Mayfly, as the build wrote it into {@code version.properties}. */
public final class Version {
    private Version() {}

    /** e.g. {@code 0.1.0}; {@code unknown} if the classes were not built by Maven. */
    public static final String CURRENT = read();

    private static final java.util.regex.Pattern SHAPE =
            java.util.regex.Pattern.compile("[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}");

    /**
     * A version another process said it runs (an agent's registration or heartbeat), as it may be shown and logged:
     * itself if it looks like one (letters, digits, {@code . + _ -}, at most 64), else {@code unknown}; never a
     * newline, markup or megabytes from a hostile agent.
     */
    public static String said(String version) {
        return version != null && SHAPE.matcher(version).matches() ? version : "unknown";
    }

    private static String read() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown").strip();
            return v.isEmpty() || v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            return "unknown";
        }
    }
}
