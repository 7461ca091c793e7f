package dev.rewind.capture.nbd;

import dev.rewind.volumeset.RewindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

/**
 * How the server's TCP listeners use TLS (NBD_OPT_STARTTLS, spec section "TLS support"), as
 * nbdkit's {@code --tls}: {@link Mode#OFF} answers STARTTLS with NBD_REP_ERR_UNSUP (NOTLS
 * mode); {@link Mode#ON} upgrades a client that asks and serves one that does not in plain;
 * {@link Mode#REQUIRE} answers every option before STARTTLS but ABORT with
 * NBD_REP_ERR_TLS_REQD (FORCEDTLS mode). Unix socket listeners are always plain.
 *
 * @param mode       off, on or require
 * @param context    the server's keys and trust; null when {@code mode} is off
 * @param verifyPeer whether a client must present a certificate that the CA of the
 *                   certificates directory signed
 */
public record NbdTls(Mode mode, SSLContext context, boolean verifyPeer) {
    /** TLS versions offered: 1.3 and 1.2, the spec's MUST; nothing older. */
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    /** TLS on none of the listeners. */
    public static final NbdTls OFF = new NbdTls(Mode.OFF, null, false);

    public enum Mode { OFF, ON, REQUIRE }

    public NbdTls {
        if (mode == null) {
            throw new IllegalArgumentException("no TLS mode");
        }
        if (mode != Mode.OFF && context == null) {
            throw new IllegalArgumentException("TLS " + mode + " needs certificates");
        }
    }

    /**
     * TLS in {@code mode} with the credentials of {@code certificatesDir} (see
     * {@link PemCredentials}); a one-line {@link RewindException} naming the file or what is
     * missing when they cannot be read.
     */
    public static NbdTls load(Mode mode, Path certificatesDir, boolean verifyPeer) {
        if (mode == Mode.OFF) {
            return OFF;
        }
        if (certificatesDir == null) {
            throw new RewindException("--tls " + mode.name().toLowerCase(java.util.Locale.ROOT)
                    + " needs --tls-certificates DIR (holding ca-cert.pem, server-cert.pem and server-key.pem)");
        }
        if (!Files.isDirectory(certificatesDir)) {
            throw new RewindException("TLS certificates directory " + certificatesDir + " does not exist or is not a directory");
        }
        char[] password = new char[0];
        KeyStore keys = PemCredentials.serverKeyStore(certificatesDir, password);
        KeyStore trust = verifyPeer || Files.exists(certificatesDir.resolve(PemCredentials.CA_CERT))
                ? PemCredentials.caTrustStore(certificatesDir) : null;
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, password);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return new NbdTls(mode, context, verifyPeer);
        } catch (GeneralSecurityException e) {
            throw new RewindException("TLS certificates in " + certificatesDir + " cannot be used: " + e.getMessage());
        }
    }

    /** A server-side engine for one connection: TLS 1.3/1.2, client certificate required when {@link #verifyPeer}. */
    SSLEngine newServerEngine() {
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        SSLParameters p = engine.getSSLParameters();
        p.setProtocols(PROTOCOLS);
        p.setNeedClientAuth(verifyPeer);
        engine.setSSLParameters(p);
        return engine;
    }
}
