package dev.rewind.dbadapters.postgresql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rewind.dbadapters.api.DatabasePosition;
import dev.rewind.volumeset.RewindException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LsnTest {

    @Test
    void parsesBothHalvesIntoTheOrder() {
        assertEquals(new DatabasePosition("0/3A0000F8", 0x3A0000F8L), Lsn.parse("0/3A0000F8").position());
        assertEquals((0x16L << 32) | 0xB374D848L, Lsn.parse("16/B374D848").value());
        assertEquals(0xFFFF_FFFF_FFFF_FFFFL, Lsn.parse("FFFFFFFF/FFFFFFFF").value());
    }

    @Test
    void printsAsPostgresqlDoes() {
        assertEquals("0/15260D0", Lsn.parse("0/015260d0").toString());
        assertEquals("1/0", new Lsn(1L << 32).toString());
    }

    @Test
    void comparesUnsigned() {
        assertEquals(1, Integer.signum(Lsn.parse("FFFFFFFF/0").compareTo(Lsn.parse("1/0"))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"3A0000F8", "0/", "/3A", "0/3A0000F8/1", "0/xyz", "mysql-bin.000003:1234", "", "123456789/0"})
    void refusesWhatIsNotAnLsnSayingTheForm(String text) {
        RewindException e = assertThrows(RewindException.class, () -> Lsn.parse(text));
        assertEquals("'" + text + "' is not an LSN; give it as PostgreSQL prints it, e.g. 0/3A0000F8", e.getMessage());
    }
}
