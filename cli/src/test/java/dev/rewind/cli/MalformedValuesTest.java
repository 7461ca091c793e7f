package dev.rewind.cli;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * A value that cannot be read (a time, LSN, binlog position, GTID, point, seq, size, duration,
 * address) is bad usage, exit 2, with one line naming it; a well-formed value that names
 * something absent is a refusal, exit 1.
 */
class MalformedValuesTest {
    @TempDir
    Path tmp;
    CliHarness cli;

    @BeforeEach
    void setUp() {
        cli = new CliHarness(tmp);
        cli.createShop();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "restore shop --to-time yesterday|'yesterday' is not an ISO-8601 time",
        "restore shop --to-seq -1|a seq must be 0 or more",
        "restore shop --to-lsn zz|'zz' is not an LSN",
        "restore shop --before-lsn 0/xyz|'0/xyz' is not an LSN",
        "restore shop --to-binlog mysql-bin|'mysql-bin' is not a binlog position",
        "restore shop --before-binlog mysql-bin.000003:x|is not a binlog position",
        "restore shop --to-gtid 0-1|'0-1' is not a binlog position",
        "sandbox create shop probe --at foo|'foo' in --at is not a point in time",
        "sandbox create shop probe --at time:garbage|'garbage' is not an ISO-8601 time",
        "sandbox create shop probe --at 99999999999999999999|is too large",
        "log shop --until soon|'soon' is not an ISO-8601 time",
        "db find shop --sql DROP --since soon|'soon' is not an ISO-8601 time",
        "lv create x --vg vg0 --size lots|'lots' is not a size",
        "set update shop --cut-every often|'often' is not a duration",
        "set update shop --cut-adaptive 5s|is not an adaptive period",
        "serve --listen nowhere|--listen 'nowhere' is not HOST:PORT",
    })
    void aMalformedValueIsBadUsage(String args, String message) throws Exception {
        cli.usage(message, args.split(" "));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "restore shop --to-bookmark nope|no bookmark named nope",
        "restore shop --to-seq 99|beyond the newest write",
        "restore shop --to-lsn 0/3000060|no database",
        "restore shop --to-gtid 0-1-42|no database",
        "sandbox create shop probe --at bookmark:nope|no bookmark named nope",
        "restore shop --to-time 2001-01-01T00:00:00Z|no write of set shop at or before",
    })
    void aWellFormedValueNamingNothingIsARefusal(String args, String message) throws Exception {
        cli.refused(message, args.split(" "));
    }
}
