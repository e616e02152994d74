package io.mayfly.server.http;

import io.javalin.http.Context;
import io.mayfly.wire.Json;

/** How every API route writes its answer. */
public final class Answers {
    private Answers() {}

    /** Answers with {@code body} as JSON. */
    public static void json(Context ctx, int status, Object body) {
        ctx.status(status).contentType("application/json").result(Json.write(body));
    }
}
