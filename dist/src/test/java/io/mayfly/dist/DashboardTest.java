package io.mayfly.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real headless Chromium (Debian's chromium and chromedriver): log in, watch a push's build
 * console stream to its end, see the release go live, roll back with a click and see the previous version served
 * by the router. Screenshots of each main page go to target/screenshots for a reviewer to look at.
 */
class DashboardTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");

    @TempDir
    Path tmp;

    private MayflyProcess mayfly;
    private WebDriver browser;
    private WebDriverWait wait;

    @BeforeEach
    void start() throws Exception {
        assumeThat(CHROMIUM).as("Debian's chromium").exists();
        assumeThat(CHROMEDRIVER).as("Debian's chromium-driver").exists();
        mayfly = new MayflyProcess(tmp.resolve("data")).start();
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile());
        options.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,1000",
                "--user-data-dir=" + tmp.resolve("chromium-profile"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        browser = new ChromeDriver(service, options);
        wait = new WebDriverWait(browser, Duration.ofSeconds(60));
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterEach
    void stop() throws Exception {
        if (browser != null) browser.quit();
        if (mayfly != null) mayfly.close();
    }

    @Test
    void logInWatchABuildStreamSeeItGoLiveAndRollBackWithAClick() throws Exception {
        mayfly.cli("apps:create", "web");
        Path repo = MayflyProcess.checkoutExample("hello", tmp.resolve("web"));
        MayflyProcess.setVersion(repo, "web-1");
        assertThat(mayfly.push(repo, "web", "v1").exit()).isZero();

        // Not logged in: the dashboard sends the browser to the login page; a wrong token is refused there.
        browser.get(base() + "/apps/web");
        wait.until(ExpectedConditions.urlContains("/login"));
        browser.findElement(By.id("token")).sendKeys("not-a-token");
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        assertThat(wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("[role=alert]")))
                        .getText())
                .contains("not known");
        screenshot("01-login");
        browser.findElement(By.id("token")).sendKeys(mayfly.token());
        browser.findElement(By.cssSelector("button[type=submit]")).click();
        wait.until(ExpectedConditions.urlMatches("/apps/web$"));

        browser.get(base() + "/apps");
        WebElement apps = browser.findElement(By.tagName("main"));
        assertThat(apps.getText()).contains("web", "v1", "serving");
        screenshot("02-apps");

        // A slow build, so the browser is watching while its console is still being written.
        Files.writeString(
                repo.resolve("mayfly.toml"),
                Files.readString(repo.resolve("mayfly.toml"))
                        .replace(
                                "command = \"make\"",
                                "command = \"echo slow build starting; sleep 5; make; echo build done\""));
        MayflyProcess.setVersion(repo, "web-2");
        CompletableFuture<MayflyProcess.Result> push = CompletableFuture.supplyAsync(() -> {
            try {
                return mayfly.push(repo, "web", "v2");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        int build = awaitRunningBuild("web", push);
        browser.get(base() + "/job/web/build/" + build);
        assertThat(browser.findElement(By.id("build-status")).getText()).isEqualTo("running");
        WebElement console = browser.findElement(By.id("console"));
        assertThat(console.getText()).doesNotContain("build done");
        // Only the page's event stream can bring these: the page is not reloaded.
        wait.until(ExpectedConditions.textToBePresentInElement(console, "build done"));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("build-status"), "succeeded"));
        assertThat(console.getText()).contains("slow build starting", "hello.c");
        screenshot("03-build-streamed");
        MayflyProcess.Result pushed = push.get();
        assertThat(pushed.exit()).as(pushed.out()).isZero();

        browser.get(base() + "/apps/web");
        assertThat(browser.findElement(By.tagName("main")).getText()).contains("v2 at", "Deploy");
        assertThat(mayfly.visit("web", "/").body()).contains("web-2");
        screenshot("04-app-live-v2");

        // Roll back with a click: a new release of v1's build, served by the router.
        browser.findElement(By.xpath("//button[normalize-space()='Roll back to v1']"))
                .click();
        WebElement notice = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("[role=status]")));
        assertThat(notice.getText()).startsWith("Rolled back: v3");
        assertThat(mayfly.visit("web", "/").body()).contains("web-1");
        assertThat(browser.findElement(By.tagName("main")).getText()).contains("v3 at", "Rollback to v1");
        screenshot("05-app-rolled-back");

        // A config var set from the page makes a release; its value stays hidden until asked for, and reaches the app.
        browser.findElement(By.id("config-key")).sendKeys("GREETING");
        browser.findElement(By.id("config-value")).sendKeys("hello from the dashboard");
        browser.findElement(By.xpath("//button[normalize-space()='Set (makes a release)']"))
                .click();
        assertThat(wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("[role=status]")))
                        .getText())
                .isEqualTo("Set GREETING: released as v4.");
        assertThat(browser.findElement(By.tagName("main")).getText())
                .contains("GREETING")
                .doesNotContain("hello from the dashboard");
        assertThat(mayfly.visit("web", "/").body()).contains("hello from the dashboard");
        browser.findElement(By.linkText("Show values")).click();
        assertThat(browser.findElement(By.tagName("main")).getText()).contains("hello from the dashboard");
        screenshot("06-config");

        // The instance page tails the console.
        browser.findElement(By.cssSelector("#instances a")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("console"), "listening"));
        screenshot("07-instance");

        // The hosts page: this server's own drivers, and no build worker yet.
        browser.findElement(By.linkText("Hosts")).click();
        wait.until(ExpectedConditions.urlContains("/hosts"));
        assertThat(browser.findElement(By.tagName("main")).getText())
                .contains("embedded agent", "process", "qemu", "firecracker", "Build workers", "None present");
        screenshot("07b-hosts");

        // A form post without the session's CSRF token is refused and changes nothing.
        Cookie session = browser.manage().getCookieNamed("mayfly_session");
        HttpResponse<String> forged = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(base() + "/apps/web/rollback"))
                                .header("Cookie", "mayfly_session=" + session.getValue())
                                .header("Content-Type", "application/x-www-form-urlencoded")
                                .POST(HttpRequest.BodyPublishers.ofString("version=2"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(forged.statusCode()).isEqualTo(403);
        assertThat(forged.body()).contains("CSRF");
        assertThat(releases("web")).hasSize(4);

        // Errors are pages that say what happened.
        browser.get(base() + "/apps/no-such-app");
        assertThat(browser.findElement(By.tagName("main")).getText()).contains("no app named no-such-app");
        browser.get(base() + "/no/such/page");
        assertThat(browser.findElement(By.tagName("main")).getText()).contains("Not found", "/no/such/page");
        screenshot("08-not-found");

        // The router's request timer for the app, as Prometheus text.
        HttpResponse<String> metrics = mayfly.api("GET", "/metrics", null);
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).containsPattern("mayfly_router_requests_seconds_count\\{app=\"web\"} [1-9]");

        // Logging out ends the session: the dashboard asks for a login again.
        browser.get(base() + "/apps");
        browser.findElement(By.xpath("//button[normalize-space()='Log out']")).click();
        wait.until(ExpectedConditions.urlContains("/login"));
        browser.get(base() + "/apps");
        wait.until(ExpectedConditions.urlContains("/login"));
    }

    private String base() {
        return "http://127.0.0.1:" + mayfly.apiPort;
    }

    private int awaitRunningBuild(String app, CompletableFuture<MayflyProcess.Result> push) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (Views.BuildView b : Json.read(
                    mayfly.api("GET", "/api/v1/apps/" + app + "/builds", null).body(), Views.BuildView[].class)) {
                if (b.status().equals("running")) return b.number();
            }
            if (push.isDone()) break;
            Thread.sleep(50);
        }
        throw new AssertionError("no build of " + app + " was seen running; the push "
                + (push.isDone() ? "ended: " + push.get().out() : "has not ended") + "\nserver log:\n"
                + mayfly.serverLog());
    }

    private List<Views.ReleaseView> releases(String app) throws Exception {
        return List.of(Json.read(
                mayfly.api("GET", "/api/v1/apps/" + app + "/releases", null).body(), Views.ReleaseView[].class));
    }

    private void screenshot(String name) throws Exception {
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
