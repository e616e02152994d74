package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's login sends the browser back where it came from, and only ever to a page of this server: the
 * attacker's {@code ?next=%2F%09%2Fevil} (a tab a browser drops, leaving //evil) and the classic open-redirect inputs
 * all land on /apps after a real login over HTTP.
 */
class DashboardLoginRedirectTest {
    private static final HttpClient HTTP =
            HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @TempDir
    Path tmp;

    @Test
    void aLoginLinkCannotSendTheBrowserToAnotherSite() throws Exception {
        try (MayflyProcess mayfly = new MayflyProcess(tmp.resolve("data")).start()) {
            // The attacker's link, byte for byte as sent.
            HttpResponse<String> page = get(mayfly, "/login?next=%2F%09%2Fevil");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("name=\"next\" value=\"/apps\"").doesNotContain("evil");
            assertThat(login(mayfly, "/\t/evil").headers().firstValue("Location"))
                    .contains("/apps");

            for (String next : List.of(
                    "//evil",
                    "///evil",
                    "/\\evil",
                    "\\\\evil",
                    "https://evil",
                    "http:evil",
                    "javascript:alert(1)",
                    "/%2F%2Fevil",
                    "/%5Cevil",
                    "/\n/evil",
                    "/\r\n/evil",
                    "\t//evil",
                    "/ /evil",
                    "/../evil",
                    "/%09/evil")) {
                String shown = next.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
                HttpResponse<String> form =
                        get(mayfly, "/login?next=" + URLEncoder.encode(next, StandardCharsets.UTF_8));
                assertThat(form.body()).as(shown).contains("name=\"next\" value=\"/apps\"");
                HttpResponse<String> loggedIn = login(mayfly, next);
                assertThat(loggedIn.statusCode()).as(shown).isEqualTo(303);
                assertThat(loggedIn.headers().firstValue("Location")).as(shown).contains("/apps");
            }

            // A page of this server is where the login goes, with its query; the session cookie keeps its flags.
            HttpResponse<String> back = login(mayfly, "/apps/web?reveal=1");
            assertThat(back.headers().firstValue("Location")).contains("/apps/web?reveal=1");
            assertThat(back.headers().firstValue("Set-Cookie").orElseThrow()).contains("HttpOnly", "SameSite=Strict");
        }
    }

    private static HttpResponse<String> get(MayflyProcess mayfly, String pathAndQuery) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mayfly.apiPort + pathAndQuery))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> login(MayflyProcess mayfly, String next) throws Exception {
        String form = "token=" + URLEncoder.encode(mayfly.token(), StandardCharsets.UTF_8) + "&next="
                + URLEncoder.encode(next, StandardCharsets.UTF_8);
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + mayfly.apiPort + "/login"))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(form))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
