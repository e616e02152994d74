package io.mayfly.server.store;

import io.mayfly.wire.ConfigCipher;
import org.jdbi.v3.core.Jdbi;

/**
 * Everything the server keeps, on one database and one blob store: what services and routes take, rather than
 * a dozen stores each.
 */
public record Stores(
        Jdbi db,
        Apps apps,
        Builds builds,
        Releases releases,
        Tokens tokens,
        Audit audit,
        AppConfig config,
        Formation formation,
        Agents agents,
        BuildIndex buildIndex,
        Rebuilds rebuilds,
        AppSources sources,
        WebhookDeliveries webhooks,
        BuildJobs buildJobs,
        ContentAddressedBlobs blobs) {

    /** @param serverId this server among those sharing the database: what it builds and deploys is marked with it */
    public static Stores open(Jdbi db, String serverId, ContentAddressedBlobs blobs, ConfigCipher cipher) {
        return new Stores(
                db,
                new Apps(db),
                new Builds(db, serverId),
                new Releases(db, serverId),
                new Tokens(db),
                new Audit(db),
                new AppConfig(db, cipher),
                new Formation(db),
                new Agents(db),
                new BuildIndex(db),
                new Rebuilds(db),
                new AppSources(db, cipher),
                new WebhookDeliveries(db),
                new BuildJobs(db),
                blobs);
    }
}
