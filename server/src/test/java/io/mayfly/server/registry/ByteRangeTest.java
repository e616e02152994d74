package io.mayfly.server.registry;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ByteRangeTest {
    private static ByteRange.Request parse(String header) {
        return ByteRange.parse(header, 1000);
    }

    private static ByteRange.Request partial(long start, long end) {
        return new ByteRange.Request.Partial(new ByteRange(start, end));
    }

    @Test
    void readsTheThreeFormsOfASingleRange() {
        assertThat(parse("bytes=0-99")).isEqualTo(partial(0, 99));
        assertThat(parse("bytes=900-")).isEqualTo(partial(900, 999));
        assertThat(parse("bytes=-100")).isEqualTo(partial(900, 999));
        assertThat(parse("bytes=990-5000"))
                .as("an end past the file is cut at its last byte")
                .isEqualTo(partial(990, 999));
        assertThat(parse("bytes=-5000")).isEqualTo(partial(0, 999));
    }

    @Test
    void rangesPastTheEndAreUnsatisfiableAndEverythingElseServesTheWholeFile() {
        assertThat(parse("bytes=1000-")).isInstanceOf(ByteRange.Request.Unsatisfiable.class);
        assertThat(parse("bytes=-0")).isInstanceOf(ByteRange.Request.Unsatisfiable.class);
        assertThat(parse(null)).isInstanceOf(ByteRange.Request.Whole.class);
        assertThat(parse("bytes=0-1,5-6")).isInstanceOf(ByteRange.Request.Whole.class);
        assertThat(parse("items=0-1")).isInstanceOf(ByteRange.Request.Whole.class);
        assertThat(parse("bytes=9-3")).isInstanceOf(ByteRange.Request.Whole.class);
        assertThat(parse("bytes=99999999999999999999-")).isInstanceOf(ByteRange.Request.Whole.class);
    }

    @Test
    void contentRangeNamesTheSliceAndTheSize() {
        ByteRange r = new ByteRange(10, 19);
        assertThat(r.length()).isEqualTo(10);
        assertThat(r.contentRange(1000)).isEqualTo("bytes 10-19/1000");
    }

    @Test
    void ifNoneMatchAcceptsListsWeakTagsAndStar() {
        assertThat(ArtifactDownload.matches("\"a\", W/\"b\"", "\"b\"")).isTrue();
        assertThat(ArtifactDownload.matches("*", "\"b\"")).isTrue();
        assertThat(ArtifactDownload.matches("\"a\"", "\"b\"")).isFalse();
        assertThat(ArtifactDownload.matches(null, "\"b\"")).isFalse();
    }
}
