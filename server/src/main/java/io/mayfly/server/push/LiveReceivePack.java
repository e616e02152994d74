package io.mayfly.server.push;

import io.mayfly.server.git.GitRepositories;
import io.mayfly.server.release.PushPipeline;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.eclipse.jgit.errors.UnpackException;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.transport.ReceivePack;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the POST of a push ({@code /git/APP.git/git-receive-pack}) itself instead of JGit's servlet, whose
 * response buffer holds the first 32 KiB back: here every flush of the side-band reaches the client, so the
 * build and deploy lines appear as {@code remote:} lines while they happen. Everything else is JGit's.
 */
public final class LiveReceivePack implements Filter {
    private static final Logger log = LoggerFactory.getLogger(LiveReceivePack.class);
    private static final Pattern PUSH = Pattern.compile("^/git/([a-z][a-z0-9-]{0,62})\\.git/git-receive-pack$");

    private final GitRepositories repos;
    private final PushPipeline pipeline;
    private final long maxPackBytes;

    /** @param maxPackBytes the largest pack a push may send (mayfly server --max-upload) */
    public LiveReceivePack(GitRepositories repos, PushPipeline pipeline, long maxPackBytes) {
        this.repos = repos;
        this.pipeline = pipeline;
        this.maxPackBytes = maxPackBytes;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest req = (HttpServletRequest) request;
        HttpServletResponse rsp = (HttpServletResponse) response;
        Matcher m = PUSH.matcher(req.getRequestURI());
        if (!"POST".equals(req.getMethod()) || !m.matches() || !java.nio.file.Files.exists(repos.path(m.group(1)))) {
            chain.doFilter(request, response);
            return;
        }
        if (!"application/x-git-receive-pack-request".equals(req.getContentType())) {
            rsp.sendError(415, "expected application/x-git-receive-pack-request");
            return;
        }
        try (Repository db = repos.open(m.group(1))) {
            ReceivePack rp = PushReceiver.receivePack(db, pipeline, maxPackBytes);
            rp.setBiDirectionalPipe(false);
            rsp.setContentType("application/x-git-receive-pack-result");
            rsp.setHeader("Cache-Control", "no-cache");
            InputStream in = req.getInputStream();
            if ("gzip".equalsIgnoreCase(req.getHeader("Content-Encoding"))) {
                in = new GZIPInputStream(in);
            }
            OutputStream out = new FilterOutputStream(rsp.getOutputStream()) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    this.out.write(b, off, len);
                }
            };
            try {
                rp.receive(in, out, null);
            } catch (UnpackException e) {
                // Already told to the client in the status report (a pack past the limit, a broken pack). It reads that
                // only once it has sent its whole request, so the rest is read and dropped, up to the limit again.
                log.warn(
                        "push to {} refused: {}",
                        m.group(1),
                        e.getCause() == null ? e.toString() : e.getCause().toString());
                drain(req.getInputStream(), maxPackBytes);
            }
            out.flush();
        } catch (IOException e) {
            log.warn("push to {} failed: {}", m.group(1), e.toString());
            if (!rsp.isCommitted()) rsp.sendError(500, "push failed: " + e.getMessage());
        }
    }

    private static void drain(InputStream in, long max) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long left = max;
        int n;
        while (left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) > 0) left -= n;
    }
}
