package io.mayfly.wire.manifest;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlFactory;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import com.fasterxml.jackson.dataformat.toml.TomlReadFeature;
import java.math.BigInteger;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads {@code mayfly.toml} with Jackson's TOML parser, then checks it key by key against the schema below, which
 * holds every key's type and limits. Jackson's tree has no positions, so the line of a key is found in the text by
 * its table and name.
 */
final class ManifestReader {
    private static final int MAX_NESTING = 32;
    private static final TomlMapper TOML = new TomlMapper(TomlFactory.builder()
            .enable(TomlReadFeature.PARSE_JAVA_TIME) // a date where a string belongs is then a wrong type, not a string
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_NESTING)
                    .maxStringLength(Manifest.MAX_BYTES)
                    .build())
            .build());
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMGT]i?B?)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern TABLE_LINE = Pattern.compile("^\\s*\\[\\s*([^\\]\\s]+)\\s*\\]\\s*(#.*)?$");
    /** {@code key =}, or {@code table.key =} (a dotted key at the top level). */
    private static final Pattern KEY_LINE =
            Pattern.compile("^\\s*\"?([A-Za-z0-9_-]+)\"?\\s*(?:\\.\\s*\"?([A-Za-z0-9_-]+)\"?\\s*)?=");

    private static final int MAX_COMMAND = 4096, MAX_ARG = 4096, MAX_PATH = 1024, MAX_REGEX = 1024, MAX_NAME = 64;

    enum Type {
        STRING,
        BOOL,
        INT,
        STRINGS,
        DURATION,
        SIZE
    }

    /**
     * What one key takes. {@code min} and {@code max}: the range of a number, of a duration in milliseconds, of a
     * size in bytes; for a string, {@code max} is its longest length; for an array, {@code items} is how many
     * strings it may hold and {@code max} the longest of them.
     */
    record Key(Type type, long min, long max, int items) {
        static Key string(int longest) {
            return new Key(Type.STRING, 0, longest, 0);
        }

        static Key strings(int items, int longest) {
            return new Key(Type.STRINGS, 0, longest, items);
        }

        static Key bool() {
            return new Key(Type.BOOL, 0, 1, 0);
        }

        static Key integer(int min, int max) {
            return new Key(Type.INT, min, max, 0);
        }

        static Key duration(Duration min, Duration max) {
            return new Key(Type.DURATION, min.toMillis(), max.toMillis(), 0);
        }

        static Key size(long min, long max) {
            return new Key(Type.SIZE, min, max, 0);
        }
    }

    private static final Map<String, Map<String, Key>> SCHEMA = new LinkedHashMap<>();

    static {
        SCHEMA.put(
                "build",
                ordered(
                        "command", Key.string(MAX_COMMAND),
                        "artifact", Key.string(MAX_PATH),
                        "initrd", Key.string(MAX_PATH),
                        "network", Key.bool(),
                        "host_paths", Key.strings(32, MAX_PATH),
                        "timeout", Key.duration(Duration.ofSeconds(1), Duration.ofHours(24)),
                        "schedule", Key.string(256)));
        SCHEMA.put(
                "run",
                ordered(
                        "driver", Key.string(MAX_NAME),
                        "args", Key.strings(64, MAX_ARG),
                        "memory", Key.size(1L << 20, 1L << 40),
                        "vcpus", Key.integer(1, 64),
                        "instances", Key.integer(0, 64),
                        "guest_port", Key.integer(1, 65535),
                        "drain_timeout", Key.duration(Duration.ofMillis(1), Duration.ofHours(1)),
                        "idle_stop", Key.duration(Duration.ofSeconds(1), Duration.ofHours(24)),
                        "strategy", Key.string(MAX_NAME),
                        "network", Key.bool(),
                        "request_timeout", Key.duration(Duration.ofMillis(10), Duration.ofHours(24)),
                        "response_timeout", Key.duration(Duration.ofMillis(10), Duration.ofHours(24)),
                        "idle_timeout", Key.duration(Duration.ofMillis(10), Duration.ofHours(24))));
        SCHEMA.put(
                "health",
                ordered(
                        "path", Key.string(MAX_PATH),
                        "status", Key.integer(100, 599),
                        "tcp", Key.bool(),
                        "console", Key.string(MAX_REGEX),
                        "timeout", Key.duration(Duration.ofMillis(10), Duration.ofHours(1)),
                        "interval", Key.duration(Duration.ofMillis(10), Duration.ofMinutes(1)),
                        "try_timeout", Key.duration(Duration.ofMillis(10), Duration.ofMinutes(1)),
                        "liveness", Key.duration(Duration.ZERO, Duration.ofHours(1))));
        SCHEMA.put(
                "test",
                ordered(
                        "command", Key.string(MAX_COMMAND),
                        "timeout", Key.duration(Duration.ofSeconds(1), Duration.ofHours(24))));
    }

    /** Every table and the keys it takes. */
    static Map<String, java.util.Set<String>> keys() {
        Map<String, java.util.Set<String>> keys = new LinkedHashMap<>();
        SCHEMA.forEach((table, k) -> keys.put(table, k.keySet()));
        return keys;
    }

    /** The type and limits of {@code [table] key}, or null for a key the manifest does not take. */
    static Key key(String table, String key) {
        Map<String, Key> keys = SCHEMA.get(table);
        return keys == null ? null : keys.get(key);
    }

    private final String file;
    private final String text;
    private final String[] lines;
    /** Every key the manifest sets, checked and converted, by "table.key". */
    private final Map<String, Object> values = new HashMap<>();

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
            String why = e instanceof StreamConstraintsException
                    ? "arrays and tables are nested more than " + MAX_NESTING + " deep"
                    : visible(String.valueOf(e.getOriginalMessage()), 300);
            throw new ManifestException(file, Math.max(line, 0), null, "not valid TOML: " + why);
        } catch (DateTimeParseException e) {
            // The parser hands a date-time's text to java.time, which refuses one like 1979-05-27T47:32:00Z.
            throw new ManifestException(
                    file,
                    lineContaining(e.getParsedString()),
                    null,
                    "not valid TOML: " + quoted(e.getParsedString()) + " is not a date-time: "
                            + visible(
                                    String.valueOf(
                                            e.getCause() == null
                                                    ? e.getMessage()
                                                    : e.getCause().getMessage()),
                                    200));
        }
        if (root == null || root.isMissingNode()) root = TOML.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            var entry = it.next();
            String table = entry.getKey();
            if (!SCHEMA.containsKey(table)) {
                throw error(
                        tableLine(table),
                        visible(table, 64),
                        "unknown "
                                + (entry.getValue().isObject() ? "table [" + visible(table, 64) + "]" : "top-level key")
                                + "; expected one of [build], [run], [health], [test]"
                                + suggestion(table, SCHEMA.keySet().stream().toList()));
            }
            if (!entry.getValue().isObject()) {
                throw error(keyLine(null, table), table, "must be a table [" + table + "], not a value");
            }
            for (Iterator<Map.Entry<String, JsonNode>> keys = entry.getValue().fields(); keys.hasNext(); ) {
                var key = keys.next();
                Key spec = key(table, key.getKey());
                if (spec == null) {
                    List<String> known = List.copyOf(SCHEMA.get(table).keySet());
                    throw error(
                            keyLine(table, key.getKey()),
                            "[" + table + "] " + visible(key.getKey(), 64),
                            "unknown key; [" + table + "] takes " + String.join(", ", known)
                                    + suggestion(key.getKey(), known));
                }
                values.put(table + "." + key.getKey(), check(table, key.getKey(), key.getValue(), spec));
            }
        }
        Manifest d = Manifest.defaults(null);

        String command = get("build", "command", d.build().command());
        String artifact = get("build", "artifact", null);
        // Without a command the build is the MirageOS recipe, which finds the image it made in dist/ by itself.
        if (artifact == null && command != null) {
            throw error(
                    tableLine("build"),
                    "[build] artifact",
                    "missing; name the boot image the build leaves behind, e.g. artifact = \"hello\"");
        }
        if (artifact != null) relativePath("build", "artifact", artifact);
        String initrd = get("build", "initrd", null);
        if (initrd != null) relativePath("build", "initrd", initrd);
        List<String> hostPaths = get("build", "host_paths", List.of());
        for (String p : hostPaths) {
            if (!p.startsWith("/") || hasControl(p)) {
                throw error(
                        keyLine("build", "host_paths"),
                        "[build] host_paths",
                        "expected absolute host paths like \"/boot\" without control characters, got " + quoted(p));
            }
        }
        Manifest.Build build = new Manifest.Build(
                command,
                artifact,
                initrd,
                get("build", "network", false),
                hostPaths,
                get("build", "timeout", d.build().timeout()),
                get("build", "schedule", null));

        String driver = get("run", "driver", d.run().driver());
        oneOf("run", "driver", driver, Manifest.DRIVERS);
        String strategy = get("run", "strategy", d.run().strategy());
        oneOf("run", "strategy", strategy, Manifest.STRATEGIES);
        Manifest.Run run = new Manifest.Run(
                driver,
                get("run", "args", List.of()),
                get("run", "memory", d.run().memoryBytes()),
                get("run", "vcpus", d.run().vcpus()),
                get("run", "instances", d.run().instances()),
                get("run", "guest_port", d.run().guestPort()),
                get("run", "drain_timeout", d.run().drainTimeout()),
                get("run", "idle_stop", null),
                strategy,
                get("run", "network", d.run().network()),
                get("run", "request_timeout", null),
                get("run", "response_timeout", null),
                get("run", "idle_timeout", null));

        boolean tcp = get("health", "tcp", false);
        String console = get("health", "console", null);
        boolean explicitPath = values.containsKey("health.path");
        int kinds = (explicitPath ? 1 : 0) + (tcp ? 1 : 0) + (console != null ? 1 : 0);
        if (kinds > 1) {
            throw error(
                    tableLine("health"),
                    "[health]",
                    "choose one check: path (HTTP GET), tcp = true, or console = \"regex\"; this manifest sets " + kinds
                            + " of them");
        }
        String path =
                get("health", "path", tcp || console != null ? null : d.health().path());
        if (path != null && !path.startsWith("/")) {
            throw error(
                    keyLine("health", "path"),
                    "[health] path",
                    "expected a URL path starting with \"/\", got " + quoted(path));
        }
        if (path != null && !path.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
            // It goes into the request line of the health check: a space, CR or LF there would change the request.
            throw error(
                    keyLine("health", "path"),
                    "[health] path",
                    "expected a URL path of visible ASCII characters (no spaces, control or"
                            + " non-ASCII characters; percent-encode them, e.g. %20 for a space), got " + quoted(path));
        }
        if (console != null) {
            try {
                Pattern.compile(console);
            } catch (PatternSyntaxException e) {
                throw error(
                        keyLine("health", "console"),
                        "[health] console",
                        "not a valid regular expression: " + visible(e.getDescription(), 200));
            }
        }
        Manifest.Health health = new Manifest.Health(
                path,
                get("health", "status", d.health().status()),
                tcp,
                console,
                get("health", "timeout", d.health().timeout()),
                get("health", "interval", d.health().interval()),
                get("health", "try_timeout", d.health().tryTimeout()),
                get("health", "liveness", d.health().liveness()));
        Manifest.Test test = new Manifest.Test(
                get("test", "command", null), get("test", "timeout", d.test().timeout()));
        return new Manifest(build, run, health, test);
    }

    /** Checks one value's type and limits, and returns it as the manifest holds it. */
    private Object check(String table, String key, JsonNode value, Key spec) throws ManifestException {
        boolean ok = switch (spec.type()) {
            case STRING, DURATION -> value.isTextual();
            case BOOL -> value.isBoolean();
            case INT -> value.isIntegralNumber();
            case SIZE -> value.isTextual() || value.isIntegralNumber();
            case STRINGS -> value.isArray() && allText(value);
        };
        if (!ok) {
            String expected = switch (spec.type()) {
                case STRING -> "a string in quotes";
                case DURATION -> "a duration in quotes like \"10s\", \"250ms\" or \"5m\"";
                case BOOL -> "true or false";
                case INT -> "a whole number";
                case SIZE -> "a size like \"64M\" or \"1G\"";
                case STRINGS -> "an array of strings like [\"a\", \"b\"]";
            };
            throw error(
                    keyLine(table, key), "[" + table + "] " + key, "expected " + expected + ", got " + describe(value));
        }
        return switch (spec.type()) {
            case STRING -> string(table, key, value.asText(), spec.max());
            case BOOL -> value.booleanValue();
            case INT -> integer(table, key, value.bigIntegerValue(), spec);
            case STRINGS -> strings(table, key, value, spec);
            case DURATION -> duration(table, key, value.asText(), spec);
            case SIZE -> size(table, key, value, spec);
        };
    }

    private String string(String table, String key, String s, long longest) throws ManifestException {
        if (s.length() > longest) {
            throw error(
                    keyLine(table, key),
                    "[" + table + "] " + key,
                    "expected at most " + longest + " characters, got " + s.length());
        }
        if (s.indexOf('\0') >= 0) {
            throw error(
                    keyLine(table, key),
                    "[" + table + "] " + key,
                    "must not contain a NUL character (\\u0000), got " + quoted(s));
        }
        return s;
    }

    private List<String> strings(String table, String key, JsonNode array, Key spec) throws ManifestException {
        if (array.size() > spec.items()) {
            throw error(
                    keyLine(table, key),
                    "[" + table + "] " + key,
                    "expected at most " + spec.items() + " entries, got " + array.size());
        }
        List<String> out = new ArrayList<>();
        for (JsonNode item : array) out.add(string(table, key, item.asText(), spec.max()));
        return List.copyOf(out);
    }

    private int integer(String table, String key, BigInteger n, Key spec) throws ManifestException {
        if (n.compareTo(BigInteger.valueOf(spec.min())) < 0 || n.compareTo(BigInteger.valueOf(spec.max())) > 0) {
            throw error(
                    keyLine(table, key),
                    "[" + table + "] " + key,
                    "expected a number from " + spec.min() + " to " + spec.max() + ", got "
                            + visible(n.toString(), 40));
        }
        return n.intValueExact(); // every integer key's range fits an int
    }

    private Duration duration(String table, String key, String s, Key spec) throws ManifestException {
        // "0" alone is a duration only where zero is allowed ([health] liveness = "0": no standby).
        BigInteger millis = spec.min() == 0 && s.trim().equals("0") ? BigInteger.ZERO : parseDuration(s);
        if (millis == null || millis.signum() == 0 && spec.min() > 0) {
            throw error(
                    keyLine(table, key),
                    "[" + table + "] " + key,
                    "expected a duration like \"10s\", \"250ms\", \"5m\", \"1h\" or \"1m30s\", got " + quoted(s));
        }
        if (millis.compareTo(BigInteger.valueOf(spec.min())) < 0
                || millis.compareTo(BigInteger.valueOf(spec.max())) > 0) {
            throw error(
                    keyLine(table, key),
                    "[" + table + "] " + key,
                    "expected a duration from " + showDuration(spec.min()) + " to " + showDuration(spec.max())
                            + ", got " + quoted(s));
        }
        return Duration.ofMillis(millis.longValueExact());
    }

    private long size(String table, String key, JsonNode v, Key spec) throws ManifestException {
        String given = v.isIntegralNumber() ? visible(v.asText(), 40) : quoted(v.asText());
        Matcher m = SIZE.matcher(v.asText().trim());
        if (v.isIntegralNumber() || (m.matches() && m.group(2) == null)) {
            throw error(
                    keyLine(table, key),
                    "[" + table + "] " + key,
                    "a size needs a unit: K, M, G or T, with optional i and B, like \"64M\","
                            + " \"512MiB\" or \"1G\"; a bare number is not taken as bytes, got " + given);
        }
        BigInteger bytes = m.matches() ? parseSize(m) : null;
        if (bytes == null) {
            throw error(
                    keyLine(table, key),
                    "[" + table + "] " + key,
                    "expected a size like \"64M\", \"512K\", \"1G\" or \"64MiB\", got " + given);
        }
        if (bytes.compareTo(BigInteger.valueOf(spec.min())) < 0
                || bytes.compareTo(BigInteger.valueOf(spec.max())) > 0) {
            throw error(
                    keyLine(table, key),
                    "[" + table + "] " + key,
                    "expected a size from " + showSize(spec.min()) + " to " + showSize(spec.max()) + ", got " + given);
        }
        return bytes.longValueExact();
    }

    /** Milliseconds, without overflow however many digits; null when {@code s} is not a duration. */
    static BigInteger parseDuration(String s) {
        String t = s.trim();
        Matcher m = DURATION.matcher(t);
        BigInteger total = BigInteger.ZERO;
        int at = 0;
        while (m.find() && m.start() == at) {
            long unit = switch (m.group(2)) {
                case "ms" -> 1;
                case "s" -> 1000;
                case "m" -> 60_000;
                default -> 3_600_000;
            };
            total = total.add(new BigInteger(m.group(1)).multiply(BigInteger.valueOf(unit)));
            at = m.end();
        }
        return at == t.length() && at > 0 ? total : null;
    }

    /** Bytes, without overflow however many digits; the unit is K, M, G or T (powers of 1024), with optional i and B. */
    private static BigInteger parseSize(Matcher m) {
        int shift = switch (Character.toUpperCase(m.group(2).charAt(0))) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            default -> 40;
        };
        return new BigInteger(m.group(1)).shiftLeft(shift);
    }

    static String showDuration(long millis) {
        if (millis % 3_600_000 == 0) return millis / 3_600_000 + "h";
        if (millis % 60_000 == 0) return millis / 60_000 + "m";
        if (millis % 1000 == 0) return millis / 1000 + "s";
        return millis + "ms";
    }

    static String showSize(long bytes) {
        for (String unit : List.of("TiB", "GiB", "MiB", "KiB")) {
            int shift = switch (unit.charAt(0)) {
                case 'T' -> 40;
                case 'G' -> 30;
                case 'M' -> 20;
                default -> 10;
            };
            if (bytes >= 1L << shift && bytes % (1L << shift) == 0) return (bytes >> shift) + unit;
        }
        return bytes + " bytes";
    }

    @SuppressWarnings("unchecked")
    private <T> T get(String table, String key, T fallback) {
        Object v = values.get(table + "." + key);
        return v == null ? fallback : (T) v;
    }

    private void relativePath(String table, String key, String value) throws ManifestException {
        if (value.isBlank()
                || value.startsWith("/")
                || List.of(value.split("/")).contains("..")
                || hasControl(value)) {
            throw error(
                    keyLine(table, key),
                    "[" + table + "] " + key,
                    "expected a path inside the build directory like \"hello\" or \"dist/hello.hvt\", got "
                            + quoted(value));
        }
    }

    private void oneOf(String table, String key, String value, List<String> allowed) throws ManifestException {
        if (!allowed.contains(value)) {
            throw error(
                    keyLine(table, key),
                    "[" + table + "] " + key,
                    "expected one of " + String.join(", ", allowed) + ", got " + quoted(value)
                            + suggestion(value, allowed));
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
            if (!k.find()) continue;
            boolean dotted = k.group(2) != null;
            String name = dotted ? k.group(2) : k.group(1);
            String in = dotted && current == null ? k.group(1) : current;
            if (name.equals(key) && (table == null ? in == null : table.equals(in))) return i + 1;
        }
        return table == null ? 0 : tableLine(table);
    }

    /** The 1-based line of the first line holding {@code fragment}, or 0. */
    private int lineContaining(String fragment) {
        for (int i = 0; fragment != null && !fragment.isEmpty() && i < lines.length; i++) {
            if (lines[i].contains(fragment)) return i + 1;
        }
        return 0;
    }

    /** The line where a key appears for the second time in the same table, or 0. */
    private int duplicateKeyLine() {
        Set<String> seen = new HashSet<>();
        String current = "";
        for (int i = 0; i < lines.length; i++) {
            Matcher t = TABLE_LINE.matcher(lines[i]);
            if (t.matches()) {
                current = t.group(1);
                continue;
            }
            Matcher k = KEY_LINE.matcher(lines[i]);
            if (k.find() && !seen.add(current + "\0" + k.group(1) + (k.group(2) == null ? "" : "." + k.group(2))))
                return i + 1;
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
        if (got.length() > 64) return "";
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
                cur[j] = Math.min(
                        Math.min(cur[j - 1] + 1, prev[j] + 1),
                        prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    private static boolean allText(JsonNode array) {
        for (JsonNode n : array) if (!n.isTextual()) return false;
        return true;
    }

    private static String describe(JsonNode v) {
        if (v.isTextual()) return "the string " + quoted(v.asText());
        if (v.isBoolean()) return "the boolean " + v.asText();
        if (v.isNumber()) return "the number " + visible(v.asText(), 40);
        if (v.isArray()) return "an array " + visible(v.toString(), 80);
        if (v.isObject()) return "a table";
        if (v.isPojo())
            return "the date/time "
                    + visible(String.valueOf(((com.fasterxml.jackson.databind.node.POJONode) v).getPojo()), 40);
        return visible(v.toString(), 80);
    }

    private static boolean hasControl(String s) {
        return s.chars().anyMatch(Character::isISOControl);
    }

    /** {@code s} in double quotes, as {@link #visible} shows it. */
    static String quoted(String s) {
        return "\"" + visible(s.replace("\\", "\\\\").replace("\"", "\\\""), 80) + "\"";
    }

    /**
     * {@code s} as an error message may show it (the message goes to a terminal, a push's {@code remote:} lines, a
     * log): control, format and separator characters escaped as {@code \\uXXXX}, and cut after {@code longest} characters.
     */
    static String visible(String s, int longest) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length() && i < longest; i++) {
            char c = s.charAt(i);
            int type = Character.getType(c);
            boolean hidden = Character.isISOControl(c)
                    || type == Character.FORMAT
                    || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR
                    || type == Character.SURROGATE
                    || type == Character.PRIVATE_USE
                    || type == Character.UNASSIGNED;
            if (hidden) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        if (s.length() > longest) out.append("... (").append(s.length()).append(" characters)");
        return out.toString();
    }

    /** The length of {@code s} in UTF-8, without encoding it. */
    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n += 1;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else n += 3;
        }
        return n;
    }

    private static Map<String, Key> ordered(Object... pairs) {
        Map<String, Key> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) m.put((String) pairs[i], (Key) pairs[i + 1]);
        return m;
    }
}
