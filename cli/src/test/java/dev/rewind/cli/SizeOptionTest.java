package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.rewind.testfixtures.tools.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** SIZE options of pv, vg and lv create: malformed sizes are bad usage; fractions of a unit work when they are whole bytes. */
class SizeOptionTest {
    @TempDir
    Path tmp;
    CliHarness cli;

    @BeforeEach
    void setUp() {
        cli = new CliHarness(tmp);
        cli.ok("init");
    }

    @ParameterizedTest(name = "--size {0} is bad usage")
    @ValueSource(strings = {"-1", "1Z", "abc", "1.3K", "", "99999999999999999999"})
    void malformedSizesExitTwoAndCreateNothing(String size) throws Exception {
        cli.usage("--size", "pv", "create", "p", "--path", tmp.resolve("p.img").toString(), "--size", size);
        assertFalse(Files.exists(tmp.resolve("p.img")));
        cli.ok("pv", "create", "d1", "--path", tmp.resolve("d1.img").toString(), "--size", "8M");
        cli.ok("vg", "create", "vg0", "--pv", "d1", "--extent-size", "1M");
        cli.usage("--size", "lv", "create", "x", "--vg", "vg0", "--size", size);
        cli.usage("--extent-size", "vg", "create", "vg1", "--pv", "d1", "--extent-size", size);
    }

    @Test
    void fractionalSizesAreExactBytes() throws Exception {
        assertEquals(4_718_592, cli.ok("pv", "create", "d1", "--path", tmp.resolve("d1.img").toString(), "--size", "4.5M",
                "--json").json().get("sizeBytes").asLong());
        assertEquals(4_718_592, Files.size(tmp.resolve("d1.img")));
        cli.ok("vg", "create", "vg0", "--pv", "d1", "--extent-size", "0.5M");
        assertEquals(1_572_864, cli.ok("lv", "create", "x", "--vg", "vg0", "--size", "1.5M", "--json").json().get("sizeBytes").asLong());
        assertEquals(1_048_576, cli.ok("lv", "create", "y", "--vg", "vg0", "--size", "0.75M", "--json").json().get("sizeBytes").asLong(),
                "an LV is still rounded up to whole extents");
    }

    @Test
    void aPvThatCannotBeCreatedLeavesNoFileBehind() throws Exception {
        String fs = Files.getFileStore(tmp).type();
        if (!fs.startsWith("ext")) {
            Tools.unavailable("needs ext2/3/4, which refuses 1000 TiB files (max 16 TiB); " + tmp + " is on " + fs);
        }
        Path pv = tmp.resolve("huge.img");
        cli.fails(Main.EXIT_IO, "huge.img", "pv", "create", "huge", "--path", pv.toString(), "--size", "1000T");
        assertFalse(Files.exists(pv), "a failed pv create left " + pv + " behind");
        assertEquals(0, cli.ok("pv", "list", "--json").json().get("pvs").size());
    }
}
