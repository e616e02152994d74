package io.mayfly.server.dashboard;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Where the login page sends the browser afterwards ({@code ?next=}): a path on this server and nothing else. The value
 * is parsed as a URI, not matched against patterns, and refused when anything could make a browser read it as another
 * origin: control characters and whitespace (browsers drop tabs and newlines, so {@code /\t/evil} becomes
 * {@code //evil}), backslashes (read as slashes), a scheme, an authority, or a path whose decoded or normalised form
 * starts with {@code //}.
 */
final class LoginRedirect {
    static final String DEFAULT = "/apps";
    private static final int MAX_LENGTH = 2048;
    /** Any origin: resolving against it shows whether a value stays on the origin it is resolved against. */
    private static final URI HERE = URI.create("http://mayfly.invalid/");

    private LoginRedirect() {}

    /** {@code next} as a same-origin absolute path (with its query), or {@link #DEFAULT} when it is anything else. */
    static String safeNext(String next) {
        if (next == null
                || next.length() > MAX_LENGTH
                || !plain(next)
                || !next.startsWith("/")
                || next.startsWith("//")) return DEFAULT;
        URI uri;
        try {
            uri = new URI(next);
        } catch (URISyntaxException e) {
            return DEFAULT;
        }
        if (uri.getScheme() != null || uri.getRawAuthority() != null || uri.isOpaque() || uri.getRawFragment() != null)
            return DEFAULT;
        String path = uri.getRawPath();
        if (path == null
                || !path.startsWith("/")
                || path.startsWith("//")
                || !plain(uri.getPath())
                || uri.getPath().startsWith("//")) {
            return DEFAULT;
        }
        URI normal = uri.normalize();
        if (normal.getRawPath() == null
                || !normal.getRawPath().startsWith("/")
                || normal.getRawPath().startsWith("//")
                || normal.getRawPath().contains("/../")
                || normal.getRawPath().endsWith("/..")) {
            return DEFAULT;
        }
        String result = normal.toASCIIString();
        URI resolved = HERE.resolve(result);
        if (result.startsWith("//")
                || !HERE.getScheme().equals(resolved.getScheme())
                || !HERE.getRawAuthority().equals(resolved.getRawAuthority())) {
            return DEFAULT;
        }
        return result;
    }

    /** No control character, whitespace or backslash: nothing a browser might drop or read as a slash. */
    private static boolean plain(String s) {
        return s.chars()
                .noneMatch(c -> c < 0x21
                        || c == 0x7f
                        || c == '\\'
                        || Character.isWhitespace(c)
                        || Character.isISOControl(c)
                        || Character.getType(c) == Character.FORMAT);
    }
}
