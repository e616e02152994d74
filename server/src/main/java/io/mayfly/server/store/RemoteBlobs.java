package io.mayfly.server.store;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where blobs live when they must outlive one machine (an S3-compatible bucket): the bytes every server sharing
 * the database can fetch. {@link ContentAddressedBlobs} keeps a verified local copy of each as its cache.
 */
public interface RemoteBlobs {
    boolean exists(String sha256) throws IOException;

    /** Stores {@code file}, whose bytes hash to {@code sha256}; returns only once the store has all of them. */
    void upload(String sha256, Path file) throws IOException;

    /** Writes the blob's bytes to {@code target} (which it replaces); the caller checks the hash. */
    void download(String sha256, Path target) throws IOException;

    void delete(String sha256) throws IOException;

    /** Where the blobs are, for messages: {@code s3://bucket at http://...}. */
    String describe();
}
