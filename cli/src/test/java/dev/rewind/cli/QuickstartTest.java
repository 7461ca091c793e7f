package dev.rewind.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuickstartTest {
    @TempDir
    Path tmp;

    @Test
    void quickstartRestoresTheBankToTheWriteBeforeTheDelete() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true),
                "quickstart", "--dir", tmp.resolve("tour").toString(), "--transfers", "300", "--json");
        assertEquals(0, exit, err.toString());
        JsonNode r = new ObjectMapper().readTree(out.toString());
        assertEquals(0, r.get("accountsAfterMistake").asInt());
        assertEquals(100, r.get("accountsAfterRestore").asInt());
        assertEquals(100_000, r.get("totalAfterRestore").asLong());
        assertEquals(300, r.get("transfersAfterRestore").asInt());
        assertEquals(300, r.get("ledgerEntriesAfterRestore").asInt());
        assertTrue(r.get("invariantHolds").asBoolean());
        assertTrue(r.get("restoreLastSeq").asLong() >= r.get("restoreFirstSeq").asLong());

        StringWriter log = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(log, true), new PrintWriter(err, true),
                "--data", tmp.resolve("tour").toString(), "log", "shop", "--json"));
        JsonNode l = new ObjectMapper().readTree(log.toString());
        assertEquals(r.get("mistakeSeq").asLong(), l.get("restores").get(0).get("targetSeq").asLong());
    }

    @Test
    void quickstartTellsItsStory() {
        StringWriter out = new StringWriter();
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true),
                "quickstart", "--dir", tmp.resolve("tour").toString(), "--transfers", "50");
        assertEquals(0, exit);
        String text = out.toString();
        assertTrue(text.contains("DELETE FROM account") && text.contains("Every row is back"), text);
    }
}
