package dev.rewind.dbadapters.mariadb;

import dev.rewind.dbadapters.api.LogFiles;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The binlog read from its files, for when the server does not answer: its directory is the
 * one of {@code log_bin_basename} as the server reported it while it ran, read where it can
 * be read now ({@link LogFiles#here}); its files are the ones its index ({@code log_bin_index},
 * one path a line, oldest first) lists; where a DDL statement's preceding event is, from the
 * events' headers ({@link BinlogEvents#events}) rather than {@code SHOW BINLOG EVENTS}.
 *
 * @param dir   where the binlog files are read
 * @param names the files, oldest first
 */
record BinlogFiles(Path dir, List<String> names) {
    static final String BASENAME = "log_bin_basename";
    static final String INDEX = "log_bin_index";

    BinlogFiles {
        names = List.copyOf(names);
    }

    static BinlogFiles read(LogFiles files) throws IOException {
        String basename = files.serverSettings().get(BASENAME);
        if (basename == null || basename.isBlank()) {
            throw new RewindException("no binlog basename was recorded while the database ran (binary logging off?); start the database");
        }
        Path dir = files.here(Path.of(basename)).getParent();
        String indexSetting = files.serverSettings().get(INDEX);
        Path index = files.here(indexSetting == null || indexSetting.isBlank() ? Path.of(basename + ".index") : Path.of(indexSetting));
        if (!Files.isRegularFile(index)) {
            throw new RewindException("no binlog index at " + index + " (" + files.source() + "); start the database, or pass --mount DIR "
                    + "where the member that holds " + basename + " is mounted");
        }
        return new BinlogFiles(dir, namesIn(Files.readString(index, StandardCharsets.UTF_8)));
    }

    /** The file names an index lists ({@code ./mysql-bin.000001} or an absolute path, one a line). */
    static List<String> namesIn(String indexText) {
        List<String> names = new ArrayList<>();
        for (String line : indexText.split("\n")) {
            String l = line.strip();
            if (!l.isEmpty()) {
                names.add(Path.of(l).getFileName().toString());
            }
        }
        return names;
    }

    /**
     * What {@link ServerBinlog#lastEventBeforeStandaloneStatement} says, from the files: when
     * {@code at} is an event of a statement logged on its own, the last event before its GTID
     * event (in this file or an earlier one); null otherwise or when there is none.
     */
    BinlogPosition lastEventBeforeStandaloneStatement(BinlogPosition at) throws IOException {
        int index = names.indexOf(at.file());
        if (index < 0) {
            return null;
        }
        long previousEvent = -1;
        long beforeGtid = -1;
        boolean standalone = false;
        for (BinlogEvents.Event e : BinlogEvents.events(dir.resolve(at.file()))) {
            if (e.offsetBytes() > at.offsetBytes()) {
                break;
            }
            if (e.isGtid()) {
                beforeGtid = previousEvent;
                standalone = e.standaloneGtid();
            }
            if (!BinlogEvents.FRAMING.contains(e.type())) {
                previousEvent = e.offsetBytes();
            }
        }
        if (!standalone) {
            return null;
        }
        if (beforeGtid >= 0) {
            return new BinlogPosition(at.file(), beforeGtid);
        }
        for (int i = index - 1; i >= 0; i--) {
            long last = -1;
            for (BinlogEvents.Event e : BinlogEvents.events(dir.resolve(names.get(i)))) {
                if (!BinlogEvents.FRAMING.contains(e.type())) {
                    last = e.offsetBytes();
                }
            }
            if (last >= 0) {
                return new BinlogPosition(names.get(i), last);
            }
        }
        return null;
    }

    /**
     * What {@link ServerBinlog#endOfTransaction} says, from the files: where the transaction of
     * {@code gtid} ends, searching the newest file first; a RewindException naming the files
     * searched when none holds it.
     */
    BinlogPosition endOfTransaction(String gtid) throws IOException {
        for (int i = names.size() - 1; i >= 0; i--) {
            Long end = BinlogEvents.endOfTransaction(dir.resolve(names.get(i)), gtid);
            if (end != null) {
                return new BinlogPosition(names.get(i), end);
            }
        }
        throw new RewindException("GTID " + gtid + " is not in the binlog files " + (names.isEmpty() ? "(none listed)"
                : names.get(0) + " to " + names.get(names.size() - 1)) + " in " + dir + "; give a GTID that rewind db find lists, or "
                + "binlog coordinates FILE:POS");
    }
}
