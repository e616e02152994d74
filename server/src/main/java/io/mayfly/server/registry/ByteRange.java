package io.mayfly.server.registry;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One byte range of a file of known size, from an HTTP {@code Range} header (RFC 9110 section 14). */
record ByteRange(long start, long endInclusive) {
    private static final Pattern SINGLE = Pattern.compile("bytes=(\\d*)-(\\d*)");

    long length() {
        return endInclusive - start + 1;
    }

    String contentRange(long size) {
        return "bytes " + start + "-" + endInclusive + "/" + size;
    }

    /** What a {@code Range} header asks of a file of {@code size} bytes. */
    sealed interface Request {
        /** No header, several ranges, or one we cannot read: the whole file, as RFC 9110 lets a server do. */
        record Whole() implements Request {}

        record Partial(ByteRange range) implements Request {}
        /** A well-formed range that lies wholly past the end of the file: 416. */
        record Unsatisfiable() implements Request {}
    }

    static Request parse(String header, long size) {
        if (header == null) return new Request.Whole();
        Matcher m = SINGLE.matcher(header.strip());
        if (!m.matches() || m.group(1).isEmpty() && m.group(2).isEmpty()) return new Request.Whole();
        try {
            if (m.group(1).isEmpty()) {
                long suffix = Long.parseLong(m.group(2));
                if (suffix == 0 || size == 0) return new Request.Unsatisfiable();
                return new Request.Partial(new ByteRange(Math.max(0, size - suffix), size - 1));
            }
            long start = Long.parseLong(m.group(1));
            if (!m.group(2).isEmpty() && Long.parseLong(m.group(2)) < start) return new Request.Whole();
            if (start >= size) return new Request.Unsatisfiable();
            long end = m.group(2).isEmpty() ? size - 1 : Long.parseLong(m.group(2));
            return new Request.Partial(new ByteRange(start, Math.min(end, size - 1)));
        } catch (NumberFormatException tooLarge) {
            return new Request.Whole();
        }
    }
}
