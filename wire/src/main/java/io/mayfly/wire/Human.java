package io.mayfly.wire;

import java.util.Locale;

/** Figures as a person reads them in a push, a log line or an error: "512 B", "712 KiB", "3.4 MiB", "21 MiB", "1.2 GiB". */
public final class Human {
    private Human() {}

    public static String size(long bytes) {
        if (bytes < 1024) return bytes + " B";
        if (bytes < 1024 * 1024) return Math.round(bytes / 1024.0) + " KiB";
        String[] units = {"MiB", "GiB", "TiB"};
        double value = bytes / (1024.0 * 1024.0);
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return (value < 10 && value != Math.rint(value)
                        ? String.format(Locale.ROOT, "%.1f", value)
                        : String.valueOf(Math.round(value)))
                + " " + units[unit];
    }
}
