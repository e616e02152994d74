package io.mayfly.dist;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A git forge elsewhere, as an app's source repository must be: bare repositories under a directory, served over
 * HTTPS by git's own {@code git http-backend} (CGI) behind the JDK's HTTPS server, with a self-signed certificate for
 * 127.0.0.1 made by the JDK's keytool. {@link #jvmOptions} make a Mayfly server trust it.
 */
final class HttpsForge implements AutoCloseable {
    private static final String PASSWORD = "changeit";

    private final Path root;
    private final Path trustStore;
    private final HttpsServer server;

    private HttpsForge(Path root, Path trustStore, HttpsServer server) {
        this.root = root;
        this.trustStore = trustStore;
        this.server = server;
    }

    /** Serves the bare repositories under {@code dir}/repos; keys and certificates go to {@code dir} too. */
    static HttpsForge start(Path dir) throws Exception {
        Path root = Files.createDirectories(dir.resolve("repos"));
        Path keyStore = dir.resolve("forge.p12");
        Path certificate = dir.resolve("forge.crt");
        Path trustStore = dir.resolve("trust.p12");
        keytool(
                "-genkeypair",
                "-alias",
                "forge",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=127.0.0.1",
                "-ext",
                "SAN=ip:127.0.0.1",
                "-validity",
                "2",
                "-keystore",
                keyStore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                PASSWORD);
        keytool(
                "-exportcert",
                "-alias",
                "forge",
                "-keystore",
                keyStore.toString(),
                "-storepass",
                PASSWORD,
                "-file",
                certificate.toString());
        keytool(
                "-importcert",
                "-noprompt",
                "-alias",
                "forge",
                "-file",
                certificate.toString(),
                "-keystore",
                trustStore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                PASSWORD);

        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            keys.load(in, PASSWORD.toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, PASSWORD.toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);

        HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        HttpsForge forge = new HttpsForge(root, trustStore, server);
        server.createContext("/", forge::serve);
        server.start();
        return forge;
    }

    /** A new empty bare repository on the forge, its default branch main. */
    Path create(String name) throws Exception {
        Path repo = root.resolve(name);
        MayflyProcess.Result r = MayflyProcess.run(
                root, Map.of(), List.of("git", "init", "-q", "--bare", "-b", "main", repo.toString()));
        if (r.exit() != 0) throw new IllegalStateException("git init --bare failed: " + r.out());
        return repo;
    }

    String url(String name) {
        return "https://127.0.0.1:" + server.getAddress().getPort() + "/" + name;
    }

    /** What a Mayfly server's JVM needs to trust this forge's certificate. */
    String[] jvmOptions() {
        return new String[] {
            "-Djavax.net.ssl.trustStore=" + trustStore,
            "-Djavax.net.ssl.trustStorePassword=" + PASSWORD,
            "-Djavax.net.ssl.trustStoreType=PKCS12"
        };
    }

    /** One request, through git http-backend as CGI. */
    private void serve(HttpExchange exchange) throws IOException {
        try (exchange) {
            ProcessBuilder cgi = new ProcessBuilder("git", "http-backend");
            Map<String, String> env = cgi.environment();
            env.put("GIT_PROJECT_ROOT", root.toString());
            env.put("GIT_HTTP_EXPORT_ALL", "1");
            env.put("REQUEST_METHOD", exchange.getRequestMethod());
            env.put("PATH_INFO", exchange.getRequestURI().getPath());
            env.put(
                    "QUERY_STRING",
                    exchange.getRequestURI().getRawQuery() == null
                            ? ""
                            : exchange.getRequestURI().getRawQuery());
            env.put("REMOTE_ADDR", exchange.getRemoteAddress().getAddress().getHostAddress());
            String type = exchange.getRequestHeaders().getFirst("Content-Type");
            if (type != null) env.put("CONTENT_TYPE", type);
            String encoding = exchange.getRequestHeaders().getFirst("Content-Encoding");
            if (encoding != null) env.put("HTTP_CONTENT_ENCODING", encoding);
            String protocol = exchange.getRequestHeaders().getFirst("Git-Protocol");
            if (protocol != null) env.put("GIT_PROTOCOL", protocol);
            byte[] body = exchange.getRequestBody().readAllBytes();
            env.put("CONTENT_LENGTH", Integer.toString(body.length));
            Process process = cgi.redirectError(ProcessBuilder.Redirect.DISCARD).start();
            Thread.ofVirtual().start(() -> {
                try (OutputStream in = process.getOutputStream()) {
                    in.write(body);
                } catch (IOException ignored) {
                    // http-backend ended early; its answer says why
                }
            });
            InputStream out = process.getInputStream();
            int status = 200;
            String line;
            while (!(line = headerLine(out)).isEmpty()) {
                int colon = line.indexOf(':');
                String name = line.substring(0, colon).trim();
                String value = line.substring(colon + 1).trim();
                if (name.equalsIgnoreCase("Status")) status = Integer.parseInt(value.split(" ")[0]);
                else exchange.getResponseHeaders().add(name, value);
            }
            exchange.sendResponseHeaders(status, 0);
            try (OutputStream response = exchange.getResponseBody()) {
                out.transferTo(response);
            }
        }
    }

    private static String headerLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (b != '\r') line.write(b);
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    private static void keytool(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        MayflyProcess.Result r = MayflyProcess.run(Path.of("."), Map.of(), command);
        if (r.exit() != 0) throw new IllegalStateException("keytool " + args[0] + " failed: " + r.out());
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
