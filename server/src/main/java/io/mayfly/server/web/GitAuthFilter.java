package io.mayfly.server.web;

import io.mayfly.server.http.Access;
import io.mayfly.server.http.ApiError;
import io.mayfly.server.release.Actor;
import io.mayfly.server.store.Tokens;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Guards {@code /git/APP.git/...}: fetching needs read access to the app, pushing needs deploy access. A request
 * without credentials gets the 401 challenge that makes git send the token from the remote URL.
 */
public final class GitAuthFilter implements Filter {
    private static final Pattern APP = Pattern.compile("^/git/([a-z][a-z0-9-]{0,62})\\.git(/.*)?$");
    private final Access access;

    public GitAuthFilter(Access access) {
        this.access = access;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest req = (HttpServletRequest) request;
        HttpServletResponse rsp = (HttpServletResponse) response;
        String path = req.getRequestURI();
        Matcher m = APP.matcher(path);
        if (!m.matches()) {
            rsp.sendError(404, "git repositories live at /git/APP.git");
            return;
        }
        String app = m.group(1);
        boolean push = path.endsWith("/git-receive-pack") || "git-receive-pack".equals(req.getParameter("service"));
        String header = req.getHeader("Authorization");
        if (header == null) {
            rsp.setHeader("WWW-Authenticate", "Basic realm=\"mayfly\"");
            rsp.sendError(401, "a token is needed: use http://mayfly:TOKEN@HOST/git/" + app + ".git");
            return;
        }
        Tokens.Token token;
        try {
            token = access.authenticate(header);
            access.require(token, push ? Access.Need.deploy : Access.Need.read, app);
        } catch (ApiError e) {
            if (e.status() == 401) rsp.setHeader("WWW-Authenticate", "Basic realm=\"mayfly\"");
            rsp.sendError(e.status(), e.getMessage());
            return;
        }
        Actor.set("token " + token.id());
        try {
            chain.doFilter(request, response);
        } finally {
            Actor.clear();
        }
    }
}
