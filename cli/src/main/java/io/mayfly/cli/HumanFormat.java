package io.mayfly.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** How values look to a person at a terminal: aligned tables, "3 min ago", "712 KiB", short hashes. */
public final class HumanFormat {
    static final String NONE = "-";
    private static final DateTimeFormatter DATE =
            DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);

    private HumanFormat() {}

    /** Columns padded to their widest cell, two spaces apart; the last column is not padded so lines carry no trailing blanks. */
    public static String table(List<String> headers, List<List<String>> rows) {
        List<List<String>> all = new ArrayList<>();
        all.add(headers);
        all.addAll(rows);
        int[] widths = new int[headers.size()];
        for (List<String> row : all) {
            for (int i = 0; i < row.size(); i++)
                widths[i] = Math.max(widths[i], cell(row.get(i)).length());
        }
        StringBuilder out = new StringBuilder();
        for (List<String> row : all) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                String value = cell(row.get(i));
                line.append(value);
                if (i < row.size() - 1) line.append(" ".repeat(widths[i] - value.length() + 2));
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }

    /** "just now", "45 s ago", "3 min ago", "5 h ago", "12 days ago"; past a month the date itself reads better. */
    public static String ago(Instant then, Instant now) {
        if (then == null) return NONE;
        long seconds = Duration.between(then, now).toSeconds();
        if (seconds < 5) return "just now";
        if (seconds < 60) return seconds + " s ago";
        if (seconds < 3600) return seconds / 60 + " min ago";
        if (seconds < 48 * 3600) return seconds / 3600 + " h ago";
        if (seconds < 31 * 86400) return seconds / 86400 + " days ago";
        return DATE.format(then);
    }

    /** "850 ms", "12.3 s", "2m 05s", "1h 02m". */
    public static String duration(Duration d) {
        if (d == null) return NONE;
        long ms = Math.max(0, d.toMillis());
        if (ms < 1000) return ms + " ms";
        if (ms < 60_000) return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
        long s = ms / 1000;
        if (s < 3600) return String.format(Locale.ROOT, "%dm %02ds", s / 60, s % 60);
        return String.format(Locale.ROOT, "%dh %02dm", s / 3600, (s % 3600) / 60);
    }

    /** "512 B", "712 KiB", "3.4 MiB", "21 MiB", "1.2 GiB". */
    public static String size(long bytes) {
        return io.mayfly.wire.Human.size(bytes);
    }

    /** The first 12 hex digits of a sha256, with or without its "sha256:" prefix. */
    public static String sha12(String sha256) {
        if (sha256 == null || sha256.isBlank()) return NONE;
        String hex = sha256.startsWith("sha256:") ? sha256.substring("sha256:".length()) : sha256;
        return hex.length() <= 12 ? hex : hex.substring(0, 12);
    }

    /** A git commit id as people quote it. */
    public static String commit(String id) {
        if (id == null || id.isBlank()) return NONE;
        return id.length() <= 7 ? id : id.substring(0, 7);
    }

    public static String version(int release) {
        return release > 0 ? "v" + release : NONE;
    }

    private static String cell(String value) {
        return value == null || value.isEmpty() ? NONE : value;
    }
}
