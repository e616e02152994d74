package io.mayfly.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogsStreamingTest {
    @TempDir
    Path home;

    @Test
    void tailPrintsEachLineAsItArrivesWhileTheServerKeepsTheAnswerOpen() throws Exception {
        CountDownLatch firstLinePrinted = new CountDownLatch(1);
        AtomicBoolean printedBeforeServerWentOn = new AtomicBoolean();
        // The CLI's stdout: notices the first line the moment the CLI prints it.
        StringWriter out = new StringWriter() {
            @Override
            public void flush() {
                super.flush();
                if (toString().contains("first line\n")) firstLinePrinted.countDown();
            }
        };
        try (FakeApi api = FakeApi.start()) {
            api.handle("GET", "/api/v1/apps/hello/logs", exchange -> {
                exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
                exchange.sendResponseHeaders(200, 0);
                try (OutputStream body = exchange.getResponseBody()) {
                    body.write("first line\n".getBytes(StandardCharsets.UTF_8));
                    body.flush();
                    // The second line is only sent once the first has reached the CLI's output: a client
                    // that waited for the whole answer would print nothing until this wait ran out.
                    printedBeforeServerWentOn.set(firstLinePrinted.await(20, TimeUnit.SECONDS));
                    body.write("second line\n".getBytes(StandardCharsets.UTF_8));
                    body.flush();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });

            Cli.Result result =
                    Cli.run(Cli.pointingAt(api, home, "t"), out, "logs", "-a", "hello", "--tail", "-n", "5");

            assertThat(result.exitCode()).isZero();
            assertThat(printedBeforeServerWentOn).isTrue();
            assertThat(result.out()).isEqualTo("first line\nsecond line\n");
            assertThat(api.only().pathAndQuery()).isEqualTo("/api/v1/apps/hello/logs?lines=5&follow=true");
        }
    }

    @Test
    void withoutTailItAsksForTheLastHundredLinesOnly() throws Exception {
        try (FakeApi api = FakeApi.start()) {
            api.handle(
                    "GET",
                    "/api/v1/apps/hello/logs",
                    exchange ->
                            FakeApi.respond(exchange, 200, "text/plain", "[mayfly] v3 is live\n[hello] listening\n"));

            Cli.Result result = Cli.run(Cli.pointingAt(api, home, "t"), "logs", "-a", "hello");

            assertThat(result.exitCode()).isZero();
            assertThat(result.out()).isEqualTo("[mayfly] v3 is live\n[hello] listening\n");
            assertThat(api.only().pathAndQuery()).isEqualTo("/api/v1/apps/hello/logs?lines=100&follow=false");
        }
    }

    @Test
    void aLogErrorIsReportedLikeAnyOther() throws Exception {
        try (FakeApi api = FakeApi.start()) {
            api.answer(
                    "GET",
                    "/api/v1/apps/nope/logs",
                    404,
                    "{\"status\":404,\"error\":\"no app named nope\",\"hint\":\"see mayfly apps\"}");

            Cli.Result result = Cli.run(Cli.pointingAt(api, home, "t"), "logs", "-a", "nope", "-t");

            assertThat(result.exitCode()).isEqualTo(1);
            assertThat(result.err()).isEqualTo("error: no app named nope\nhint: see mayfly apps\n");
        }
    }
}
