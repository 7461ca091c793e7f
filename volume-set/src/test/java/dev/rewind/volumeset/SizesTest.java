package dev.rewind.volumeset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
            "512, 512",
            "0, 0",
            "64K, 65536",
            "64k, 65536",
            "4M, 4194304",
            "4m, 4194304",
            "2G, 2147483648",
            "2g, 2147483648",
            "1T, 1099511627776",
            "1t, 1099511627776",
            "1P, 1125899906842624",
            "64KiB, 65536",
            "64kib, 65536",
            "4MB, 4194304",
            "512B, 512",
            "' 4M ', 4194304",
            "9223372036854775807, 9223372036854775807",
            "8388607T, 9223370937343148032",
            "1.5G, 1610612736",
            "1.5g, 1610612736",
            "0.5K, 512",
            "2.25M, 2359296",
            "1.0, 1",
            "1.50T, 1649267441664",
    })
    void parsesNumbersWithBinarySuffixesInEitherCase(String text, long expected) {
        assertEquals(expected, Sizes.parse(text), text);
    }

    @ParameterizedTest(name = "''{0}'' is refused")
    @ValueSource(strings = {"", " ", "K", "abc", "4X", "4MM", "1Z", "1.", ".5G", "1.5.1G", "4 M B x", "0x10", "4M-", "--4", "+4", "4,5M"})
    void refusesTextThatIsNotASize(String text) {
        RewindException e = assertThrows(RewindException.class, () -> Sizes.parse(text));
        assertTrue(e.getMessage().contains("is not a size"), e.getMessage());
        assertTrue(e.getMessage().contains("e.g. 64M"), "says what to write instead: " + e.getMessage());
    }

    @ParameterizedTest(name = "''{0}'' is refused")
    @ValueSource(strings = {"-1", "-64K", "-0"})
    void refusesNegativeSizes(String text) {
        RewindException e = assertThrows(RewindException.class, () -> Sizes.parse(text));
        assertTrue(e.getMessage().contains(text), e.getMessage());
    }

    @ParameterizedTest(name = "''{0}'' is refused")
    @ValueSource(strings = {"1.3K", "0.1", "1.5", "0.0000001G"})
    void refusesFractionsThatAreNotWholeBytes(String text) {
        RewindException e = assertThrows(RewindException.class, () -> Sizes.parse(text));
        assertTrue(e.getMessage().contains("not a whole number of bytes"), e.getMessage());
    }

    @ParameterizedTest(name = "''{0}'' is too large")
    @ValueSource(strings = {"9223372036854775808", "99999999999999999999999", "8388608T", "8192P", "9007199254740992K",
            "8796093022208M", "8589934592G", "8192.0P"})
    void refusesSizesThatOverflowALong(String text) {
        RewindException e = assertThrows(RewindException.class, () -> Sizes.parse(text));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
    }

    @Test
    void formatsInTheLargestWholeOrTenthUnit() {
        assertEquals("512 B", Sizes.format(512));
        assertEquals("64 KiB", Sizes.format(64 * Sizes.KIB));
        assertEquals("4 MiB", Sizes.format(4 * Sizes.MIB));
        assertEquals("1.5 GiB", Sizes.format(3 * Sizes.GIB / 2));
        assertEquals("1 TiB", Sizes.format(1024 * Sizes.GIB));
    }
}
