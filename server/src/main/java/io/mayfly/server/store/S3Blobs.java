package io.mayfly.server.store;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Blobs in a bucket of any S3-compatible store (AWS S3, MinIO, Ceph RGW, Garage, S3Proxy), under the same keys
 * as on disk: {@code sha256/ab/abcd...}. Named by {@code s3://BUCKET[/PREFIX]?endpoint=URL&region=R}; the
 * credentials come from the usual AWS places (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or ~/.aws), never
 * from the URL, so that it can be shown. Any endpoint other than AWS's is addressed path-style
 * ({@code ENDPOINT/BUCKET/KEY}), which every S3-compatible store accepts.
 */
public final class S3Blobs implements RemoteBlobs {
    private final S3Client s3;
    private final String bucket;
    private final String prefix;
    private final String description;

    private S3Blobs(S3Client s3, String bucket, String prefix, String description) {
        this.s3 = s3;
        this.bucket = bucket;
        this.prefix = prefix;
        this.description = description;
    }

    /** Opens the bucket {@code url} names and checks that it is there and readable, so a wrong setting fails at start. */
    public static S3Blobs open(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--blobs '" + url + "' is not a URL: " + e.getReason() + "; " + FORM, e);
        }
        if (!"s3".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("--blobs '" + url + "' names no S3 bucket; " + FORM);
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException(
                    "--blobs '" + url.replaceAll("//[^@]*@", "//***@") + "' carries credentials; "
                            + "give them in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead, so that the URL can be shown");
        }
        Map<String, String> query = query(uri.getRawQuery());
        String bucket = uri.getHost();
        String path = uri.getPath() == null ? "" : uri.getPath().replaceAll("^/+|/+$", "");
        String prefix = path.isEmpty() ? "" : path + "/";
        var builder = S3Client.builder()
                .httpClient(UrlConnectionHttpClient.create())
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .region(Region.of(query.getOrDefault("region", "us-east-1")));
        String endpoint = query.get("endpoint");
        if (endpoint != null) builder.endpointOverride(URI.create(endpoint)).forcePathStyle(true);
        String description = "s3://" + bucket + "/" + prefix + (endpoint != null ? " at " + endpoint : "");
        S3Client s3 = builder.build();
        try {
            s3.headBucket(b -> b.bucket(bucket));
        } catch (NoSuchBucketException e) {
            s3.close();
            throw new IllegalStateException(
                    "the bucket of --blobs " + description + " does not exist; create it first", e);
        } catch (SdkException e) {
            s3.close();
            throw new IllegalStateException(
                    "cannot reach the blob store " + description + ": " + e.getMessage()
                            + "; check the endpoint, the region and the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
                    e);
        }
        return new S3Blobs(s3, bucket, prefix, description);
    }

    private static final String FORM = "expected s3://BUCKET[/PREFIX]?endpoint=http://HOST:PORT&region=REGION "
            + "(leave endpoint out for AWS S3)";

    @Override
    public boolean exists(String sha256) throws IOException {
        try {
            s3.headObject(o -> o.bucket(bucket).key(key(sha256)));
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) return false;
            throw failure("look up", sha256, e);
        } catch (SdkException e) {
            throw failure("look up", sha256, e);
        }
    }

    @Override
    public void upload(String sha256, Path file) throws IOException {
        long size = Files.size(file);
        try {
            s3.putObject(o -> o.bucket(bucket).key(key(sha256)).contentLength(size), RequestBody.fromFile(file));
        } catch (SdkException e) {
            throw failure("store", sha256, e);
        }
    }

    @Override
    public void download(String sha256, Path target) throws IOException {
        try {
            Files.deleteIfExists(target);
            s3.getObject(o -> o.bucket(bucket).key(key(sha256)), ResponseTransformer.toFile(target));
        } catch (NoSuchKeyException e) {
            throw new IOException("blob sha256:" + sha256 + " is missing from " + description, e);
        } catch (SdkException e) {
            throw failure("fetch", sha256, e);
        }
    }

    @Override
    public void delete(String sha256) throws IOException {
        try {
            s3.deleteObject(o -> o.bucket(bucket).key(key(sha256)));
        } catch (SdkException e) {
            throw failure("delete", sha256, e);
        }
    }

    @Override
    public String describe() {
        return description;
    }

    private String key(String sha256) {
        return prefix + "sha256/" + sha256.substring(0, 2) + "/" + sha256;
    }

    private IOException failure(String what, String sha256, SdkException e) {
        return new IOException(
                "cannot " + what + " blob sha256:" + sha256 + " in " + description + ": " + e.getMessage(), e);
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> params = new HashMap<>();
        if (raw == null) return params;
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0)
                params.put(
                        URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return params;
    }
}
