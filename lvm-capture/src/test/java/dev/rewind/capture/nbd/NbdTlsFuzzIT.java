package dev.rewind.capture.nbd;

import dev.rewind.testfixtures.seed.Seeds;
import dev.rewind.testfixtures.tls.TestCertificates;
import java.nio.file.Path;
import java.util.stream.LongStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link NbdFuzzTest}'s fuzz run inside TLS: a server with {@code --tls on} and certificates
 * openssl makes for the test; every connection that gets past the client flags sends
 * NBD_OPT_STARTTLS first and then sends its malformed, mutated and valid traffic through TLS,
 * with the same checks (spec errors or disconnects, nothing wrong in the journal, no server
 * warning). Fewer messages than the plain run by default (the handshakes cost time);
 * {@code -Drewind.fuzz.tlsMessages=N} asks for more, {@code -Drewind.seed} replays one seed.
 */
class NbdTlsFuzzIT {
    @TempDir
    Path tmp;

    static LongStream seeds() {
        return Seeds.of(0x7150_F022L);
    }

    @ParameterizedTest(name = Seeds.NAME)
    @MethodSource("seeds")
    void malformedAndMutatedTrafficInsideTlsGetsSpecErrorsOrDisconnects(long seed) throws Exception {
        TestCertificates certs = TestCertificates.make(tmp.resolve("certs"), TestCertificates.KeyFormat.SEC1_EC);
        NbdTls tls = NbdTls.load(NbdTls.Mode.ON, certs.server(), false);
        NbdFuzzTest.fuzz(seed, Integer.getInteger("rewind.fuzz.tlsMessages", 20_000), tmp.resolve("fuzz"), tls,
                TestCertificates.clientContext(certs.client(), false));
    }
}
