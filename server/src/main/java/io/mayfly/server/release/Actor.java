package io.mayfly.server.release;

import java.util.function.Supplier;

/**
 * Who is making the change being handled on this thread: "token ID" for an API call or a push, "system" for what
 * the server does by itself. Set by the HTTP layer around each request (each runs on its own virtual thread).
 */
public final class Actor {
    private static final ThreadLocal<String> CURRENT = new ThreadLocal<>();

    private Actor() {}

    public static String current() {
        String actor = CURRENT.get();
        return actor == null ? "system" : actor;
    }

    public static void set(String actor) {
        CURRENT.set(actor);
    }

    public static void clear() {
        CURRENT.remove();
    }

    /** Runs the work as the given actor. */
    public static <T> T as(String actor, Supplier<T> work) {
        String before = CURRENT.get();
        CURRENT.set(actor);
        try {
            return work.get();
        } finally {
            if (before == null) CURRENT.remove();
            else CURRENT.set(before);
        }
    }
}
