package io.mayfly.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContentAddressedBlobsTest {
    @TempDir
    Path dir;

    @Test
    void storesBytesOnceUnderTheirSha256() throws Exception {
        ContentAddressedBlobs blobs = new ContentAddressedBlobs(dir);
        var a = blobs.put(new ByteArrayInputStream("hello".getBytes()));
        var b = blobs.put(new ByteArrayInputStream("hello".getBytes()));
        assertThat(a.sha256()).isEqualTo("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assertThat(b).isEqualTo(a);
        assertThat(blobs.path(a.sha256()))
                .hasContent("hello")
                .isEqualTo(dir.resolve("sha256/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
        try (var tmp = Files.list(dir.resolve("tmp"))) {
            assertThat(tmp.toList()).isEmpty();
        }
    }

    @Test
    void aStreamThatBreaksMidwayLeavesNoBlobAndNoPartialFile() throws Exception {
        ContentAddressedBlobs blobs = new ContentAddressedBlobs(dir);
        InputStream breaking = new InputStream() {
            int n;

            @Override
            public int read() throws IOException {
                if (n++ > 100_000) throw new IOException("connection reset");
                return 'x';
            }
        };
        assertThatThrownBy(() -> blobs.put(breaking)).hasMessageContaining("connection reset");
        try (var tmp = Files.list(dir.resolve("tmp"));
                var stored = Files.walk(dir.resolve("sha256"))) {
            assertThat(tmp.toList()).isEmpty();
            assertThat(stored.filter(Files::isRegularFile).toList()).isEmpty();
        }
    }

    @Test
    void leftoversOfACrashAreRemovedOnOpenAndCorruptionIsDetectedOnRead() throws Exception {
        Files.createDirectories(dir.resolve("tmp"));
        Files.writeString(dir.resolve("tmp/blob-123.partial"), "half");
        ContentAddressedBlobs blobs = new ContentAddressedBlobs(dir);
        assertThat(dir.resolve("tmp/blob-123.partial")).doesNotExist();

        var stored = blobs.put(new ByteArrayInputStream("the real bytes".getBytes()));
        assertThat(blobs.verify(stored.sha256())).exists();
        Files.writeString(blobs.path(stored.sha256()), "flipped bytes");
        assertThatThrownBy(() -> blobs.verify(stored.sha256())).hasMessageContaining("corrupt");
    }
}
