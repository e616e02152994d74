package io.mayfly.wire;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of this build of Mayfly, as the build wrote it into {@code version.properties}. */
public final class Version {
    private Version() {}

    /** e.g. {@code 0.1.0}; {@code unknown} if the classes were not built by Maven. */
    public static final String CURRENT = read();

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
