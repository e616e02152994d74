package io.mayfly.wire.manifest;

/** A manifest that cannot be used, with where the problem is and what was expected there. */
public final class ManifestException extends Exception {
    private final String file;
    private final int line;
    private final String key;
    private final String expected;

    public ManifestException(String file, int line, String key, String expected) {
        super(file + (line > 0 ? ":" + line : "") + ": " + (key == null ? "" : key + ": ") + expected);
        this.file = file;
        this.line = line;
        this.key = key;
        this.expected = expected;
    }

    public String file() {
        return file;
    }

    /** 1-based; 0 when the problem is not on one line (a missing key). */
    public int line() {
        return line;
    }

    /** e.g. "[run] memory"; null for a syntax error. */
    public String key() {
        return key;
    }

    public String expected() {
        return expected;
    }
}
