package io.mayfly.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SourceRepositoryTest {
    @Test
    void repositoriesElsewhereAreAccepted() {
        for (String url : List.of(
                "https://github.com/owner/repo.git",
                "https://gitea.example:3000/o/r",
                "HTTPS://host/o/r.git",
                "https://user:token@git.example/o/r.git",
                "ssh://git@host/o/r.git",
                "ssh://host:2222/srv/git/r.git",
                "ssh://[::1]/r.git",
                "git@github.com:owner/repo.git",
                "gitea@host.example:/srv/repo.git")) {
            assertThat(SourceRepository.whyRefused(url)).as(url).isEmpty();
        }
    }

    @Test
    void pathsOnTheServerLocalTransportsAndCommandHelpersAreRefusedWithTheReason() {
        assertThat(SourceRepository.whyRefused("DATA/git/b.git"))
                .get()
                .asString()
                .contains("not a remote repository URL");
        assertThat(SourceRepository.whyRefused("/var/lib/mayfly/git/b.git"))
                .get()
                .asString()
                .contains("a path on the server");
        assertThat(SourceRepository.whyRefused("../b.git")).get().asString().contains("a path on the server");
        assertThat(SourceRepository.whyRefused("~/b.git")).get().asString().contains("a path on the server");
        assertThat(SourceRepository.whyRefused("file:///var/lib/mayfly/git/b.git"))
                .get()
                .asString()
                .contains("file://", "a path on the server");
        assertThat(SourceRepository.whyRefused("FILE:///x")).get().asString().contains("file://");
        assertThat(SourceRepository.whyRefused("ext::sh -c touch% /tmp/pwned"))
                .get()
                .asString()
                .contains("a space");
        assertThat(SourceRepository.whyRefused("ext::sh")).get().asString().contains("transport helper");
        assertThat(SourceRepository.whyRefused("git@ext::sh")).get().asString().contains("transport helper");
        for (String url : List.of(
                "http://host/o/r.git",
                "git://host/o/r.git",
                "amazon-s3://.jgit@bucket/r",
                "sftp://host/r",
                "file:/etc",
                "host:path",
                "git@-oProxyCommand=x:r",
                "-oProxyCommand=x@host:r",
                "git@host:-r",
                "ssh://-oProxyCommand=x/r",
                "https://host",
                "https://host/",
                "https://host/r.git?x=1",
                "https://host/r.git#main",
                "https://host/r\\..\\x",
                "https://host/r\t.git",
                "https://host/r\n.git",
                "https://hòst/r.git",
                "",
                " ",
                "C:\\repos\\b.git")) {
            assertThat(SourceRepository.whyRefused(url)).as(url).isPresent();
        }
        assertThat(SourceRepository.whyRefused(null)).isPresent();
        assertThat(SourceRepository.whyRefused("https://host/" + "a".repeat(3000)))
                .get()
                .asString()
                .contains("longer than");
    }

    @Test
    void aRefusalShowsControlCharactersEscapedAndNoPassword() {
        assertThat(SourceRepository.whyRefused("http://me:s3cret@host/r.git"))
                .get()
                .asString()
                .contains("http://me:***@host/r.git")
                .doesNotContain("s3cret");
        assertThat(SourceRepository.whyRefused("/x\ny")).get().asString().contains("/x\\x0ay");
    }

    @Test
    void branchesAreRefNamesNotRefspecsOrOptions() {
        for (String branch : List.of("main", "master", "release/1.x", "feature_a+b")) {
            assertThat(SourceRepository.whyRefusedBranch(branch)).as(branch).isEmpty();
        }
        for (String branch : List.of(
                "",
                "main:refs/heads/x",
                "*",
                "-b",
                "/main",
                "main/",
                "a..b",
                "a//b",
                "a/.b",
                ".a",
                "a.lock",
                "a.",
                "ma in",
                "main\n",
                "a@{1}",
                "a~1",
                "a^",
                "a[b]",
                "a\\b")) {
            assertThat(SourceRepository.whyRefusedBranch(branch)).as(branch).isPresent();
        }
    }
}
