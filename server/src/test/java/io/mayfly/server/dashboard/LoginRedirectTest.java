package io.mayfly.server.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LoginRedirectTest {
    @Test
    void pathsOnThisServerAreKeptWithTheirQuery() {
        assertThat(LoginRedirect.safeNext("/apps/web")).isEqualTo("/apps/web");
        assertThat(LoginRedirect.safeNext("/apps/web?reveal=1&x=%2F")).isEqualTo("/apps/web?reveal=1&x=%2F");
        assertThat(LoginRedirect.safeNext("/job/web/build/3")).isEqualTo("/job/web/build/3");
        assertThat(LoginRedirect.safeNext("/apps/./web")).isEqualTo("/apps/web");
        assertThat(LoginRedirect.safeNext("/apps/ü")).isEqualTo("/apps/%C3%BC");
        assertThat(LoginRedirect.safeNext("/.//evil"))
                .as("normalised to a path here")
                .isEqualTo("/evil");
    }

    @Test
    void anythingABrowserCouldReadAsAnotherOriginGoesToTheAppsPage() {
        for (String next : List.of(
                "/\t/evil",
                "/\n/evil",
                "/\r/evil",
                "\t//evil",
                "/ /evil",
                "//evil",
                "///evil",
                "/\\evil",
                "\\/evil",
                "/\\/evil",
                "https://evil",
                "HTTPS://evil",
                "http:evil",
                "javascript:alert(1)",
                "data:text/html,x",
                "//evil/%2F..",
                "/%2F%2Fevil",
                "/%2fevil",
                "/%5Cevil",
                "/%09/evil",
                "/%0a/evil",
                "/../evil",
                "/apps/../../evil",
                "/..//evil",
                "/apps#frag",
                "apps",
                "evil.example",
                "",
                "?next=//evil",
                "/\u202e/evil",
                "/\u0000/evil",
                "/\u007f/evil",
                "/" + "a".repeat(3000))) {
            assertThat(LoginRedirect.safeNext(next))
                    .as(next.replace("\t", "\\t").replace("\n", "\\n"))
                    .isEqualTo("/apps");
        }
        assertThat(LoginRedirect.safeNext(null)).isEqualTo("/apps");
    }
}
