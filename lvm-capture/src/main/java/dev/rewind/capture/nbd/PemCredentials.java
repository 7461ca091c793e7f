package dev.rewind.capture.nbd;

import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.io.PrivateFiles;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The x509 credentials of a TLS server in the directory layout of nbdkit and qemu-nbd
 * ({@code --tls-certificates DIR}), read with the JDK alone:
 * <pre>
 * DIR/ca-cert.pem       one or more "CERTIFICATE" blocks: the CA(s) client certificates are checked against
 * DIR/server-cert.pem   the server's certificate, then any intermediates ("CERTIFICATE" blocks)
 * DIR/server-key.pem    its private key, one of:
 *   "PRIVATE KEY"       PKCS#8 PrivateKeyInfo (RSA or EC), read as is
 *   "RSA PRIVATE KEY"   PKCS#1 RSAPrivateKey, wrapped into PKCS#8:
 *                         SEQ { INT 0, SEQ { OID rsaEncryption, NULL }, OCTET STRING { RSAPrivateKey } }
 *   "EC PRIVATE KEY"    SEC1 ECPrivateKey SEQ { INT 1, OCTET STRING key, [0] OID curve, [1] public key },
 *                         wrapped into PKCS#8 with the curve taken from its [0]:
 *                         SEQ { INT 0, SEQ { OID ecPublicKey, OID curve }, OCTET STRING { ECPrivateKey } }
 * </pre>
 * A PEM block is {@code -----BEGIN <label>-----}, base64 lines, {@code -----END <label>-----};
 * text around blocks (openssl's "Bag Attributes", certtool's dumps) is ignored. Encrypted keys
 * are refused with what to do. Each failure is one line naming the file.
 */
public final class PemCredentials {
    public static final String CA_CERT = "ca-cert.pem";
    public static final String SERVER_CERT = "server-cert.pem";
    public static final String SERVER_KEY = "server-key.pem";

    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01,
            0x01, 0x01, 0x05, 0x00};
    private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

    private PemCredentials() {
    }

    /** The server's key and certificate chain and the CA, from {@code dir}; a {@link RewindException} naming what is wrong. */
    public static KeyStore serverKeyStore(Path dir, char[] password) {
        checkKeyIsPrivate(dir.resolve(SERVER_KEY));
        PrivateKey key = privateKey(dir.resolve(SERVER_KEY));
        List<X509Certificate> chain = certificates(dir.resolve(SERVER_CERT));
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", key, password, chain.toArray(new X509Certificate[0]));
            return store;
        } catch (GeneralSecurityException | IOException e) {
            throw new RewindException(dir.resolve(SERVER_KEY) + " does not go with " + dir.resolve(SERVER_CERT) + ": " + e.getMessage());
        }
    }

    /**
     * Refuses a private key that users other than its owner and group can read, or that its
     * group can write, as PostgreSQL refuses its {@code ssl_key_file}: whoever reads it can
     * pose as this server. Mode 0600, or 0640 for a key shared with a group, passes.
     */
    static void checkKeyIsPrivate(Path file) {
        if (!file.getFileSystem().supportedFileAttributeViews().contains("posix") || !Files.isRegularFile(file)) {
            return; // a missing file is named by what reads it
        }
        Set<PosixFilePermission> p;
        try {
            p = Files.getPosixFilePermissions(file);
        } catch (IOException e) {
            throw new RewindException(file + " cannot be read: " + e.getMessage());
        }
        EnumSet<PosixFilePermission> tooOpen = EnumSet.of(
                PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
                PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
                PosixFilePermission.OTHERS_EXECUTE);
        tooOpen.retainAll(p);
        if (!tooOpen.isEmpty()) {
            throw new RewindException(file + " can be read or written by other users (mode " + PrivateFiles.octal(p)
                    + "); make the private key the owner's: chmod 0600 " + file);
        }
    }

    /** A trust store holding every certificate of {@code DIR/ca-cert.pem}. */
    public static KeyStore caTrustStore(Path dir) {
        List<X509Certificate> cas = certificates(dir.resolve(CA_CERT));
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < cas.size(); i++) {
                store.setCertificateEntry("ca" + i, cas.get(i));
            }
            return store;
        } catch (GeneralSecurityException | IOException e) {
            throw new RewindException(dir.resolve(CA_CERT) + ": " + e.getMessage());
        }
    }

    /** Every "CERTIFICATE" block of {@code file}, in order; at least one. */
    public static List<X509Certificate> certificates(Path file) {
        List<X509Certificate> out = new ArrayList<>();
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (Block b : blocks(file)) {
                if (b.label().equals("CERTIFICATE")) {
                    out.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(b.der())));
                }
            }
        } catch (CertificateException e) {
            throw new RewindException(file + " holds a certificate that cannot be read: " + e.getMessage());
        }
        if (out.isEmpty()) {
            throw new RewindException(file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        return out;
    }

    /** The private key of {@code file}: PKCS#8, PKCS#1 RSA or SEC1 EC (see the class comment). */
    public static PrivateKey privateKey(Path file) {
        for (Block b : blocks(file)) {
            try {
                switch (b.label()) {
                    case "PRIVATE KEY" -> {
                        return pkcs8(b.der(), file);
                    }
                    case "RSA PRIVATE KEY" -> {
                        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(wrapPkcs8(RSA_ALGORITHM, b.der())));
                    }
                    case "EC PRIVATE KEY" -> {
                        byte[] algorithm = sequence(EC_PUBLIC_KEY_OID, sec1Curve(b.der(), file));
                        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(wrapPkcs8(algorithm, b.der())));
                    }
                    case "ENCRYPTED PRIVATE KEY" -> throw new RewindException(file + " is encrypted; store the key without a passphrase "
                            + "(e.g. openssl pkey -in KEY -out " + SERVER_KEY + ") and make the file readable by its owner only");
                    default -> {
                        // not a key block: look further
                    }
                }
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new RewindException(file + " holds a " + b.label() + " that cannot be read: " + e.getMessage());
            }
        }
        throw new RewindException(file + " holds no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
    }

    private static PrivateKey pkcs8(byte[] der, Path file) throws GeneralSecurityException {
        GeneralSecurityException first = null;
        for (String algorithm : List.of("RSA", "EC", "RSASSA-PSS", "Ed25519", "Ed448")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                first = first == null ? e : first;
            }
        }
        throw new GeneralSecurityException("not an RSA, EC or EdDSA key in PKCS#8 (" + first.getMessage() + ")");
    }

    private record Block(String label, byte[] der) {
    }

    private static List<Block> blocks(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new RewindException(file + " does not exist; the TLS certificates directory needs " + CA_CERT + ", " + SERVER_CERT
                    + " and " + SERVER_KEY + " (the layout of nbdkit and qemu-nbd)");
        } catch (IOException e) {
            throw new RewindException(file + " cannot be read: " + e.getMessage());
        }
        List<Block> out = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            try {
                out.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
            } catch (IllegalArgumentException e) {
                throw new RewindException(file + ": the " + m.group(1) + " block is not valid base64");
            }
        }
        return out;
    }

    /** PKCS#8 PrivateKeyInfo: SEQ { INT 0, algorithm, OCTET STRING { key } }. */
    private static byte[] wrapPkcs8(byte[] algorithm, byte[] key) {
        return sequence(new byte[] {0x02, 0x01, 0x00}, algorithm, tlv(0x04, key));
    }

    /** The curve OID (a whole TLV) of a SEC1 ECPrivateKey's [0] parameters. */
    private static byte[] sec1Curve(byte[] der, Path file) {
        int[] seq = header(der, 0, 0x30);
        int at = seq[0];
        int end = seq[0] + seq[1];
        while (at < end) {
            int tag = der[at] & 0xff;
            int[] h = header(der, at, tag);
            if (tag == 0xa0) {
                int[] oid = header(der, h[0], 0x06);
                return java.util.Arrays.copyOfRange(der, h[0], oid[0] + oid[1]);
            }
            at = h[0] + h[1];
        }
        throw new IllegalArgumentException("the EC key names no curve (no [0] parameters) in " + file);
    }

    /** {content offset, content length} of the TLV at {@code at}, whose tag must be {@code tag}. */
    private static int[] header(byte[] der, int at, int tag) {
        if (at + 2 > der.length || (der[at] & 0xff) != tag) {
            throw new IllegalArgumentException("malformed DER at byte " + at);
        }
        int length = der[at + 1] & 0xff;
        int start = at + 2;
        if (length >= 0x80) {
            int n = length & 0x7f;
            if (n == 0 || n > 3 || start + n > der.length) {
                throw new IllegalArgumentException("malformed DER length at byte " + at);
            }
            length = 0;
            for (int i = 0; i < n; i++) {
                length = (length << 8) | (der[start + i] & 0xff);
            }
            start += n;
        }
        if (start + length > der.length) {
            throw new IllegalArgumentException("DER element at byte " + at + " runs past the end");
        }
        return new int[] {start, length};
    }

    private static byte[] sequence(byte[]... parts) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            body.writeBytes(p);
        }
        return tlv(0x30, body.toByteArray());
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else if (n < 0x10000) {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n);
        } else {
            out.write(0x83);
            out.write(n >> 16);
            out.write(n >> 8);
            out.write(n);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }
}
