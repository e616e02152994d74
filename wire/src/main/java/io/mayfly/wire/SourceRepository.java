package io.mayfly.wire;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which repositories an app may build from, for the server that fetches and the CLI that sends them: a repository
 * elsewhere, named by an {@code https://} or {@code ssh://} URL or scp-like ({@code git@host:owner/repo.git}). Never a
 * path on the server, {@code file://} or another transport ({@code ext::}, {@code git://}, {@code http://}, ...): a
 * fetch from those would read the server's own disk, other apps' repositories included, or run a command.
 */
public final class SourceRepository {
    /** What to give instead, for every refusal. */
    public static final String HINT =
            "give https://HOST/OWNER/REPO.git, ssh://[USER@]HOST/OWNER/REPO.git or USER@HOST:OWNER/REPO.git";

    private static final Set<String> SCHEMES = Set.of("https", "ssh");
    private static final int MAX_LENGTH = 2048;
    /** {@code user@host:path}, as git and ssh read it; the user is required so no word before a colon passes for a host. */
    private static final Pattern SCP_LIKE =
            Pattern.compile("([A-Za-z0-9._~+-]+)@([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(.+)");

    private static final Pattern BRANCH_CHARS = Pattern.compile("[A-Za-z0-9._/+-]+");

    private SourceRepository() {}

    /** Why {@code url} is refused as an app's source repository, or empty when it names a repository elsewhere. */
    public static Optional<String> whyRefused(String url) {
        if (url == null || url.isBlank()) return Optional.of("no repository URL was given");
        String shown = "'" + printable(url) + "'";
        if (url.length() > MAX_LENGTH)
            return Optional.of("the repository URL is longer than " + MAX_LENGTH + " characters");
        for (int i = 0; i < url.length(); i++) {
            char c = url.charAt(i);
            if (c <= ' ' || c >= 0x7f || c == '\\') {
                return Optional.of(
                        shown + " contains a space, a control character, a backslash or a non-ASCII character");
            }
        }
        int scheme = url.indexOf("://");
        if (scheme >= 0) return whyRefusedUrl(url, shown);
        if (url.startsWith("/") || url.startsWith(".") || url.startsWith("~")) {
            return Optional.of(shown + " is a path on the server; an app builds only from a repository elsewhere");
        }
        if (url.contains("::"))
            return Optional.of(
                    shown + " names a transport helper (such as ext::), which could run a command on the server");
        Matcher m = SCP_LIKE.matcher(url);
        if (!m.matches())
            return Optional.of(shown + " is not a remote repository URL (a path on the server, or no host)");
        String path = m.group(3);
        if (m.group(1).startsWith("-") || path.startsWith("-") || path.startsWith(":")) {
            return Optional.of(shown
                    + " has a user or path that starts with '-' or ':', which ssh or git could take for an option");
        }
        return Optional.empty();
    }

    private static Optional<String> whyRefusedUrl(String url, String shown) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            return Optional.of(shown + " is not a valid URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!SCHEMES.contains(scheme)) {
            return Optional.of(shown + " uses " + scheme + "://, which is not allowed"
                    + (scheme.equals("file") ? " (a path on the server)" : "")
                    + "; only https:// and ssh:// (or USER@HOST:PATH) reach a repository elsewhere");
        }
        if (uri.getHost() == null || uri.getHost().startsWith("-")) return Optional.of(shown + " names no valid host");
        if (uri.getRawPath() == null || uri.getRawPath().length() < 2)
            return Optional.of(shown + " names no repository on its host");
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            return Optional.of(shown + " has a query or fragment, which a repository URL has not");
        }
        return Optional.empty();
    }

    /** Why {@code branch} is refused as the branch to build, or empty when it is a plain branch name (as git check-ref-format). */
    public static Optional<String> whyRefusedBranch(String branch) {
        if (branch == null || branch.isBlank()) return Optional.of("no branch was given");
        String shown = "'" + printable(branch) + "'";
        if (branch.length() > 255
                || !BRANCH_CHARS.matcher(branch).matches()
                || branch.startsWith("-")
                || branch.startsWith("/")
                || branch.endsWith("/")
                || branch.endsWith(".")
                || branch.endsWith(".lock")
                || branch.contains("..")
                || branch.contains("//")
                || branch.contains("/.")
                || branch.startsWith(".")) {
            return Optional.of(
                    shown + " is not a branch name: use letters, digits and . _ / + - (such as main or release/1.x)");
        }
        return Optional.empty();
    }

    /** The URL as it may be shown in a message or log: control characters escaped, and any password left out. */
    public static String printable(String url) {
        StringBuilder out = new StringBuilder();
        url.codePoints().limit(300).forEach(c -> {
            if (c < ' ' || c == 0x7f) out.append(String.format("\\x%02x", c));
            else out.appendCodePoint(c);
        });
        return out.toString().replaceAll("(://[^:/@]*:)[^@/]*@", "$1***@");
    }
}
