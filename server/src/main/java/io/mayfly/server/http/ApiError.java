package io.mayfly.server.http;

import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;

/** An error the API reports as {@code {status, error, hint}}: what happened, and what to do about it. */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String hint;

    public ApiError(int status, String error, String hint) {
        super(error);
        this.status = status;
        this.hint = hint;
    }

    public int status() {
        return status;
    }

    public String hint() {
        return hint;
    }

    public static ApiError notFound(String what, String hint) {
        return new ApiError(404, what, hint);
    }

    public static ApiError badRequest(String what, String hint) {
        return new ApiError(400, what, hint);
    }

    /** One of Javalin's own refusals, said for the user: a body past {@link RequestBodies#MAX_BODY} (413) says which limit. */
    public static ApiError from(HttpResponseException e, Context ctx) {
        return e.getStatus() == 413
                ? RequestBodies.tooLarge(ctx, RequestBodies.MAX_BODY)
                : new ApiError(e.getStatus(), e.getMessage(), null);
    }
}
