package io.mayfly.server.target;

import java.util.List;
import java.util.Map;

/** A release's boot arguments as a target passes them: {@code {config.K}} placeholders filled (the MirageOS way of passing settings). */
public final class BootArguments {
    /** The longest boot argument, filled: it travels in an agent's desired state, and Linux takes 128 KiB per argument. */
    public static final int MAX_FILLED = 64 * 1024;

    private BootArguments() {}

    /** Fills the {@code {config.K}} placeholders of one argument. */
    public static String fill(String arg, Map<String, String> vars) {
        String out = arg;
        for (var e : vars.entrySet()) out = out.replace("{config." + e.getKey() + "}", e.getValue());
        return out;
    }

    /**
     * Why the arguments cannot be passed, or null: one is longer than {@link #MAX_FILLED} once filled (a short
     * argument can repeat a long value many times).
     */
    public static String tooLong(List<String> args, Map<String, String> vars) {
        for (int i = 0; i < args.size(); i++) {
            int length = fill(args.get(i), vars).length();
            if (length > MAX_FILLED) {
                return "[run] args: argument " + (i + 1) + " is " + length
                        + " characters once its {config.NAME} placeholders are filled;"
                        + " a boot argument may be at most " + MAX_FILLED
                        + " (64 KiB): use shorter config values there, or read"
                        + " them from the environment";
            }
        }
        return null;
    }
}
