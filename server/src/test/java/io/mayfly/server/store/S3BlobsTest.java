package io.mayfly.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Blobs kept in an S3-compatible bucket (a real S3 API server, S3Proxy) with each server's directory as a cache. */
class S3BlobsTest {
    @TempDir
    static Path tmp;

    static TestS3 s3;

    @BeforeAll
    static void startS3() throws Exception {
        // The AWS SDK's default credentials chain reads these system properties, as it reads AWS_ACCESS_KEY_ID.
        System.setProperty("aws.accessKeyId", TestS3.ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", TestS3.SECRET_KEY);
        s3 = new TestS3(tmp.resolve("s3"));
    }

    @AfterAll
    static void stopS3() throws Exception {
        s3.close();
    }

    @Test
    void aBlobStoredByOneServerIsFetchedCheckedAndCachedByAnother() throws Exception {
        String bucket = s3.newBucket("shared");
        ContentAddressedBlobs first = new ContentAddressedBlobs(tmp.resolve("first"), S3Blobs.open(bucket));
        ContentAddressedBlobs second = new ContentAddressedBlobs(tmp.resolve("second"), S3Blobs.open(bucket));

        var stored = first.put(new ByteArrayInputStream("unikernel bytes".getBytes(StandardCharsets.UTF_8)));

        String key = "sha256/" + stored.sha256().substring(0, 2) + "/" + stored.sha256();
        assertThat(s3.store.blobExists("shared", key))
                .as("in the bucket before put returns")
                .isTrue();
        assertThat(Files.exists(second.path(stored.sha256()))).isFalse();
        assertThat(second.exists(stored.sha256())).isTrue();
        Path fetched = second.verify(stored.sha256());
        assertThat(fetched).hasContent("unikernel bytes").isEqualTo(second.path(stored.sha256()));
        assertThat(second.describe()).contains("s3://shared/", s3.endpoint);

        second.delete(stored.sha256());
        assertThat(s3.store.blobExists("shared", key)).isFalse();
        assertThat(second.exists(stored.sha256())).isFalse();
        assertThat(first.exists(stored.sha256()))
                .as("the first server's cached copy stays until it prunes")
                .isTrue();
    }

    @Test
    void aRemoteCopyThatDoesNotHashToItsNameIsRefusedAndNotCached() throws Exception {
        String bucket = s3.newBucket("tampered");
        ContentAddressedBlobs first = new ContentAddressedBlobs(tmp.resolve("t1"), S3Blobs.open(bucket));
        var stored = first.put(new ByteArrayInputStream("the real image".getBytes(StandardCharsets.UTF_8)));
        String key = "sha256/" + stored.sha256().substring(0, 2) + "/" + stored.sha256();
        S3Blobs raw = S3Blobs.open(bucket);
        Path evil = Files.writeString(tmp.resolve("evil"), "something else");
        raw.upload(stored.sha256(), evil);
        assertThat(s3.store.blobExists("tampered", key)).isTrue();

        ContentAddressedBlobs second = new ContentAddressedBlobs(tmp.resolve("t2"), S3Blobs.open(bucket));
        assertThatThrownBy(() -> second.verify(stored.sha256()))
                .hasMessageContaining("hashes to sha256:")
                .hasMessageContaining("the remote copy is corrupt");
        assertThat(Files.exists(second.path(stored.sha256()))).isFalse();
    }

    @Test
    void aMissingBucketOrAWrongUrlIsAClearErrorAtStart() {
        assertThatThrownBy(() -> S3Blobs.open("s3://nosuchbucket?endpoint=" + s3.endpoint))
                .hasMessageContaining("does not exist; create it first");
        assertThatThrownBy(() -> S3Blobs.open("s3://key:secret@bucket?endpoint=" + s3.endpoint))
                .hasMessageContaining("AWS_ACCESS_KEY_ID")
                .hasMessageNotContaining("secret@");
        assertThatThrownBy(() -> S3Blobs.open("https://bucket")).hasMessageContaining("s3://BUCKET");
    }
}
