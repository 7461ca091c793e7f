package dev.rewind.testfixtures.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rewind.capture.nbd.PemCredentials;
import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * x509 certificates made for one test with {@code openssl} (so only {@code *IT} classes use
 * this): a CA, a server certificate for 127.0.0.1 and localhost signed by it, a client
 * certificate signed by it, and a client certificate of another CA. Each set lies in a
 * directory in the layout its users read:
 * <pre>
 * server/       ca-cert.pem server-cert.pem server-key.pem   (rewind serve / nbdkit / qemu-nbd --tls-certificates)
 * client/       ca-cert.pem client-cert.pem client-key.pem   (libnbd's tls-certificates=, qemu's tls-creds-x509 endpoint=client)
 * other-client/ ca-cert.pem client-cert.pem client-key.pem   (its certificate from another CA; trusts the server's CA)
 * </pre>
 *
 * @param server      the server's directory
 * @param client      a client signed by the server's CA
 * @param otherClient a client signed by another CA
 */
public record TestCertificates(Path server, Path client, Path otherClient) {
    /** How the server's private key is stored (all three are what openssl and certtool write). */
    public enum KeyFormat { PKCS8_RSA, PKCS1_RSA, SEC1_EC }

    private static final Duration TIMEOUT = Duration.ofMinutes(1);

    /** Makes everything under {@code dir}, the server key in {@code serverKey}'s format; skips (fails in CI) without openssl. */
    public static TestCertificates make(Path dir, KeyFormat serverKey) {
        Tools.require("openssl", "openssl");
        try {
            Path work = Files.createDirectories(dir.resolve("work"));
            ca(work, "ca", "Rewind test CA");
            ca(work, "other-ca", "Another CA");
            key(work.resolve("server-key.pem"), serverKey);
            signed(work, "server", "ca", "127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
                    + "keyUsage=critical,digitalSignature,keyEncipherment\n");
            key(work.resolve("client-key.pem"), KeyFormat.PKCS8_RSA);
            signed(work, "client", "ca", "rewind-test-client", "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n");
            key(work.resolve("other-client-key.pem"), KeyFormat.PKCS8_RSA);
            signed(work, "other-client", "other-ca", "intruder", "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n");
            Path server = layout(dir.resolve("server"), work, "ca-cert.pem", "server-cert.pem", "server-key.pem",
                    "server-cert.pem", "server-key.pem");
            Path client = layout(dir.resolve("client"), work, "ca-cert.pem", "client-cert.pem", "client-key.pem",
                    "client-cert.pem", "client-key.pem");
            Path other = layout(dir.resolve("other-client"), work, "ca-cert.pem", "other-client-cert.pem", "other-client-key.pem",
                    "client-cert.pem", "client-key.pem");
            return new TestCertificates(server, client, other);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A Java client context: trusts the CA of {@code clientDir}, and presents its certificate when {@code withCertificate}. */
    public static SSLContext clientContext(Path clientDir, boolean withCertificate) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            List<X509Certificate> cas = PemCredentials.certificates(clientDir.resolve("ca-cert.pem"));
            for (int i = 0; i < cas.size(); i++) {
                trust.setCertificateEntry("ca" + i, cas.get(i));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManagerFactory kmf = null;
            if (withCertificate) {
                KeyStore keys = KeyStore.getInstance("PKCS12");
                keys.load(null, null);
                PrivateKey key = PemCredentials.privateKey(clientDir.resolve("client-key.pem"));
                keys.setKeyEntry("client", key, new char[0],
                        PemCredentials.certificates(clientDir.resolve("client-cert.pem")).toArray(new X509Certificate[0]));
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, new char[0]);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("client TLS context from " + clientDir, e);
        }
    }

    private static void ca(Path work, String name, String subject) {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=" + subject,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout", work.resolve(name + "-key.pem").toString(), "-out", work.resolve(name + "-cert.pem").toString());
    }

    private static void key(Path file, KeyFormat format) {
        switch (format) {
            case PKCS8_RSA -> openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", file.toString());
            case PKCS1_RSA -> {
                Path pkcs8 = file.resolveSibling(file.getFileName() + ".pkcs8");
                openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", pkcs8.toString());
                openssl("rsa", "-traditional", "-in", pkcs8.toString(), "-out", file.toString());
            }
            case SEC1_EC -> openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", file.toString());
        }
    }

    private static void signed(Path work, String name, String ca, String cn, String extensions) throws IOException {
        Path ext = Files.writeString(work.resolve(name + ".ext"), extensions);
        openssl("req", "-new", "-key", work.resolve(name + "-key.pem").toString(), "-subj", "/CN=" + cn,
                "-out", work.resolve(name + ".csr").toString());
        openssl("x509", "-req", "-in", work.resolve(name + ".csr").toString(), "-CA", work.resolve(ca + "-cert.pem").toString(),
                "-CAkey", work.resolve(ca + "-key.pem").toString(), "-CAcreateserial", "-days", "3650", "-extfile", ext.toString(),
                "-out", work.resolve(name + "-cert.pem").toString());
    }

    /** Copies {@code ca}, {@code cert} and {@code key} of {@code work} into {@code dir} under the names its users expect. */
    private static Path layout(Path dir, Path work, String ca, String cert, String key, String certName, String keyName) throws IOException {
        Files.createDirectories(dir);
        Files.copy(work.resolve(ca), dir.resolve("ca-cert.pem"));
        Files.copy(work.resolve(cert), dir.resolve(certName));
        Files.copy(work.resolve(key), dir.resolve(keyName));
        Files.setPosixFilePermissions(dir.resolve(keyName), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return dir;
    }

    private static void openssl(String... args) {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Tools.Result r = Tools.run(TIMEOUT, command);
        assertEquals(0, r.exit(), r::describe);
    }
}
