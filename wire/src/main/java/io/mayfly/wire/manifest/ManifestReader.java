package io.mayfly.wire.manifest;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads {@code mayfly.toml} with Jackson's TOML parser, then checks it key by key against the schema below.
 * Jackson's tree has no positions, so the line of a key is found in the text by its table and name.
 */
final class ManifestReader {
    private static final TomlMapper TOML = new TomlMapper();
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMGT]i?B?)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern TABLE_LINE = Pattern.compile("^\\s*\\[\\s*([^\\]\\s]+)\\s*\\]\\s*(#.*)?$");
    private static final Pattern KEY_LINE = Pattern.compile("^\\s*\"?([A-Za-z0-9_-]+)\"?\\s*=");

    private enum Type { STRING, BOOL, INT, STRINGS, DURATION, SIZE }

    private static final Map<String, Map<String, Type>> SCHEMA = new LinkedHashMap<>();

    static {
        SCHEMA.put("build", ordered("command", Type.STRING, "artifact", Type.STRING, "initrd", Type.STRING, "network", Type.BOOL,
                "host_paths", Type.STRINGS, "timeout", Type.DURATION, "schedule", Type.STRING));
        SCHEMA.put("run", ordered("driver", Type.STRING, "args", Type.STRINGS, "memory", Type.SIZE, "vcpus", Type.INT,
                "instances", Type.INT, "guest_port", Type.INT, "drain_timeout", Type.DURATION, "idle_stop", Type.DURATION,
                "strategy", Type.STRING));
        SCHEMA.put("health", ordered("path", Type.STRING, "status", Type.INT, "tcp", Type.BOOL, "console", Type.STRING,
                "timeout", Type.DURATION, "interval", Type.DURATION, "try_timeout", Type.DURATION));
        SCHEMA.put("test", ordered("command", Type.STRING, "timeout", Type.DURATION));
    }

    private final String file;
    private final String text;
    private final String[] lines;

    ManifestReader(String file, String text) {
        this.file = file;
        this.text = text;
        this.lines = text.split("\n", -1);
    }

    Manifest read() throws ManifestException {
        JsonNode root;
        try {
            root = TOML.readTree(text);
        } catch (JacksonException e) {
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            int duplicate = String.valueOf(e.getOriginalMessage()).contains("Duplicate key") ? duplicateKeyLine() : 0;
            if (duplicate > 0) line = duplicate; // Jackson reports where it noticed, one line later
            throw new ManifestException(file, Math.max(line, 0), null, "not valid TOML: " + e.getOriginalMessage());
        }
        if (root == null || root.isMissingNode()) root = TOML.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            var entry = it.next();
            String table = entry.getKey();
            if (!SCHEMA.containsKey(table)) {
                throw error(tableLine(table), table, "unknown " + (entry.getValue().isObject() ? "table [" + table + "]" : "top-level key")
                        + "; expected one of [build], [run], [health], [test]" + suggestion(table, SCHEMA.keySet().stream().toList()));
            }
            if (!entry.getValue().isObject()) {
                throw error(keyLine(null, table), table, "must be a table [" + table + "], not a value");
            }
            for (Iterator<Map.Entry<String, JsonNode>> keys = entry.getValue().fields(); keys.hasNext(); ) {
                var key = keys.next();
                Type type = SCHEMA.get(table).get(key.getKey());
                if (type == null) {
                    List<String> known = List.copyOf(SCHEMA.get(table).keySet());
                    throw error(keyLine(table, key.getKey()), "[" + table + "] " + key.getKey(), "unknown key; [" + table + "] takes "
                            + String.join(", ", known) + suggestion(key.getKey(), known));
                }
                checkType(table, key.getKey(), key.getValue(), type);
            }
        }
        Manifest d = Manifest.defaults(null);
        JsonNode b = root.path("build"), r = root.path("run"), h = root.path("health"), t = root.path("test");

        String artifact = string(b, "build", "artifact", null);
        // Without a command the build is the MirageOS recipe, which finds the image it made in dist/ by itself.
        if (artifact == null && string(b, "build", "command", null) != null) {
            throw error(tableLine("build"), "[build] artifact", "missing; name the boot image the build leaves behind, e.g. artifact = \"hello\"");
        }
        if (artifact != null) relativePath("build", "artifact", artifact);
        String initrd = string(b, "build", "initrd", null);
        if (initrd != null) relativePath("build", "initrd", initrd);
        List<String> hostPaths = strings(b, "host_paths");
        for (String p : hostPaths) {
            if (!p.startsWith("/")) throw error(keyLine("build", "host_paths"), "[build] host_paths", "expected absolute host paths like \"/boot\", got \"" + p + "\"");
        }
        Manifest.Build build = new Manifest.Build(string(b, "build", "command", d.build().command()), artifact, initrd,
                b.path("network").asBoolean(false), hostPaths, duration(b, "build", "timeout", d.build().timeout()),
                string(b, "build", "schedule", null));

        String driver = string(r, "run", "driver", d.run().driver());
        oneOf("run", "driver", driver, Manifest.DRIVERS);
        String strategy = string(r, "run", "strategy", d.run().strategy());
        oneOf("run", "strategy", strategy, Manifest.STRATEGIES);
        Manifest.Run run = new Manifest.Run(driver, strings(r, "args"), size(r, "run", "memory", d.run().memoryBytes()),
                integer(r, "run", "vcpus", d.run().vcpus(), 1, 64), integer(r, "run", "instances", d.run().instances(), 0, 64),
                integer(r, "run", "guest_port", d.run().guestPort(), 1, 65535),
                duration(r, "run", "drain_timeout", d.run().drainTimeout()), duration(r, "run", "idle_stop", null), strategy);

        boolean tcp = h.path("tcp").asBoolean(false);
        String console = string(h, "health", "console", null);
        boolean explicitPath = h.has("path");
        int kinds = (explicitPath ? 1 : 0) + (tcp ? 1 : 0) + (console != null ? 1 : 0);
        if (kinds > 1) {
            throw error(tableLine("health"), "[health]", "choose one check: path (HTTP GET), tcp = true, or console = \"regex\"; this manifest sets "
                    + kinds + " of them");
        }
        String path = string(h, "health", "path", tcp || console != null ? null : d.health().path());
        if (path != null && !path.startsWith("/")) {
            throw error(keyLine("health", "path"), "[health] path", "expected a URL path starting with \"/\", got \"" + path + "\"");
        }
        if (console != null) {
            try {
                Pattern.compile(console);
            } catch (PatternSyntaxException e) {
                throw error(keyLine("health", "console"), "[health] console", "not a valid regular expression: " + e.getDescription());
            }
        }
        Manifest.Health health = new Manifest.Health(path, integer(h, "health", "status", d.health().status(), 100, 599), tcp, console,
                duration(h, "health", "timeout", d.health().timeout()), duration(h, "health", "interval", d.health().interval()),
                duration(h, "health", "try_timeout", d.health().tryTimeout()));
        Manifest.Test test = new Manifest.Test(string(t, "test", "command", null), duration(t, "test", "timeout", d.test().timeout()));
        return new Manifest(build, run, health, test);
    }

    private void checkType(String table, String key, JsonNode value, Type type) throws ManifestException {
        boolean ok = switch (type) {
            case STRING, DURATION -> value.isTextual();
            case BOOL -> value.isBoolean();
            case INT -> value.isIntegralNumber();
            case SIZE -> value.isTextual() || value.isIntegralNumber();
            case STRINGS -> value.isArray() && allText(value);
        };
        if (!ok) {
            String expected = switch (type) {
                case STRING -> "a string in quotes";
                case DURATION -> "a duration in quotes like \"10s\", \"250ms\" or \"5m\"";
                case BOOL -> "true or false";
                case INT -> "a whole number";
                case SIZE -> "a size like \"64M\" or \"1G\"";
                case STRINGS -> "an array of strings like [\"a\", \"b\"]";
            };
            throw error(keyLine(table, key), "[" + table + "] " + key, "expected " + expected + ", got " + describe(value));
        }
    }

    private String string(JsonNode table, String tableName, String key, String fallback) {
        JsonNode v = table.get(key);
        return v == null ? fallback : v.asText();
    }

    private static List<String> strings(JsonNode table, String key) {
        JsonNode v = table.get(key);
        List<String> out = new ArrayList<>();
        if (v != null) v.forEach(x -> out.add(x.asText()));
        return List.copyOf(out);
    }

    private int integer(JsonNode table, String tableName, String key, int fallback, int min, int max) throws ManifestException {
        JsonNode v = table.get(key);
        if (v == null) return fallback;
        long n = v.asLong();
        if (n < min || n > max) {
            throw error(keyLine(tableName, key), "[" + tableName + "] " + key, "expected a number from " + min + " to " + max + ", got " + n);
        }
        return (int) n;
    }

    private Duration duration(JsonNode table, String tableName, String key, Duration fallback) throws ManifestException {
        JsonNode v = table.get(key);
        if (v == null) return fallback;
        Duration d = parseDuration(v.asText());
        if (d == null || d.isZero()) {
            throw error(keyLine(tableName, key), "[" + tableName + "] " + key,
                    "expected a duration like \"10s\", \"250ms\", \"5m\", \"1h\" or \"1m30s\", got \"" + v.asText() + "\"");
        }
        return d;
    }

    private long size(JsonNode table, String tableName, String key, long fallback) throws ManifestException {
        JsonNode v = table.get(key);
        if (v == null) return fallback;
        if (v.isIntegralNumber()) {
            if (v.asLong() <= 0) throw error(keyLine(tableName, key), "[" + tableName + "] " + key, "expected a positive size, got " + v.asLong());
            return v.asLong();
        }
        Long bytes = parseSize(v.asText());
        if (bytes == null || bytes <= 0) {
            throw error(keyLine(tableName, key), "[" + tableName + "] " + key,
                    "expected a size like \"64M\", \"512K\", \"1G\" or \"64MiB\", got \"" + v.asText() + "\"");
        }
        return bytes;
    }

    static Duration parseDuration(String s) {
        Matcher m = DURATION.matcher(s.trim());
        Duration total = Duration.ZERO;
        int at = 0;
        while (m.find() && m.start() == at) {
            long n = Long.parseLong(m.group(1));
            total = total.plus(switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            });
            at = m.end();
        }
        return at == s.trim().length() && at > 0 ? total : null;
    }

    static Long parseSize(String s) {
        Matcher m = SIZE.matcher(s.trim());
        if (!m.matches()) return null;
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "" : m.group(2).toUpperCase();
        int shift = unit.isEmpty() ? 0 : switch (unit.charAt(0)) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            default -> 40;
        };
        return n << shift;
    }

    private void relativePath(String table, String key, String value) throws ManifestException {
        if (value.isBlank() || value.startsWith("/") || List.of(value.split("/")).contains("..")) {
            throw error(keyLine(table, key), "[" + table + "] " + key,
                    "expected a path inside the build directory like \"hello\" or \"dist/hello.hvt\", got \"" + value + "\"");
        }
    }

    private void oneOf(String table, String key, String value, List<String> allowed) throws ManifestException {
        if (!allowed.contains(value)) {
            throw error(keyLine(table, key), "[" + table + "] " + key, "expected one of " + String.join(", ", allowed)
                    + ", got \"" + value + "\"" + suggestion(value, allowed));
        }
    }

    private ManifestException error(int line, String key, String expected) {
        return new ManifestException(file, line, key, expected);
    }

    /** The 1-based line of {@code key} inside {@code [table]} (table null: top level), or 0. */
    private int keyLine(String table, String key) {
        String current = null;
        for (int i = 0; i < lines.length; i++) {
            Matcher t = TABLE_LINE.matcher(lines[i]);
            if (t.matches()) {
                current = t.group(1);
                continue;
            }
            Matcher k = KEY_LINE.matcher(lines[i]);
            if (k.find() && k.group(1).equals(key) && (table == null ? current == null : table.equals(current))) return i + 1;
        }
        return table == null ? 0 : tableLine(table);
    }

    /** The line where a key appears for the second time in the same table, or 0. */
    private int duplicateKeyLine() {
        java.util.Set<String> seen = new java.util.HashSet<>();
        String current = "";
        for (int i = 0; i < lines.length; i++) {
            Matcher t = TABLE_LINE.matcher(lines[i]);
            if (t.matches()) {
                current = t.group(1);
                continue;
            }
            Matcher k = KEY_LINE.matcher(lines[i]);
            if (k.find() && !seen.add(current + "\0" + k.group(1))) return i + 1;
        }
        return 0;
    }

    private int tableLine(String table) {
        for (int i = 0; i < lines.length; i++) {
            Matcher t = TABLE_LINE.matcher(lines[i]);
            if (t.matches() && (t.group(1).equals(table) || t.group(1).startsWith(table + "."))) return i + 1;
        }
        return keyLine(null, table);
    }

    private static String suggestion(String got, List<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String k : known) {
            int d = distance(got.toLowerCase(), k);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best == null ? "" : "; did you mean '" + best + "'?";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()];
    }

    private static boolean allText(JsonNode array) {
        for (JsonNode n : array) if (!n.isTextual()) return false;
        return true;
    }

    private static String describe(JsonNode v) {
        if (v.isTextual()) return "the string \"" + v.asText() + "\"";
        if (v.isBoolean()) return "the boolean " + v.asText();
        if (v.isNumber()) return "the number " + v.asText();
        if (v.isArray()) return "an array " + v;
        if (v.isObject()) return "a table";
        return v.toString();
    }

    private static Map<String, Type> ordered(Object... pairs) {
        Map<String, Type> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) m.put((String) pairs[i], (Type) pairs[i + 1]);
        return m;
    }
}
