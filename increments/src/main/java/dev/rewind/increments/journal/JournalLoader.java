package dev.rewind.increments.journal;

import dev.rewind.volumeset.CorruptDataException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recovery of a journal at open, as Kafka's {@code LogLoader}: finds the segment files,
 * checks each header and that their seqs follow on, maps the index file of every sealed
 * segment (scanning the segment and rewriting its index only when that file is missing or
 * bad), and scans the newest segment: a torn tail there is truncated (or, read-only, left and
 * ignored), a bad record anywhere else is corruption and refused. A bad record is no torn tail
 * either if flush marks after it show it was forced, or if its seq is one that a committed
 * transaction holds (the cut forced the journal through it first). Leaves files it cannot
 * account for alone, except the leftovers of its own crashes: a half-created newest segment,
 * a temp index file, an index file whose segment was deleted.
 */
final class JournalLoader {
    private static final Logger LOG = LoggerFactory.getLogger(JournalLoader.class);

    /**
     * What recovery found: the index of every segment, torn bytes dropped, the newest record's
     * time, and how to rebuild the index of a segment sealed later whose index file goes bad.
     */
    record Loaded(JournalIndex index, long truncatedBytes, long lastTimeMicros, JournalIndex.Rebuilder rebuilder) {
    }

    private final Path dir;
    private final UUID setUuid;
    private final boolean readOnly;
    /** Every write up to this seq was durable (a committed transaction holds it): a bad record there is never a torn tail. */
    private final long committedSeq;
    private long truncatedBytes;
    /** Temp index files and index files whose segment is gone: removed once the journal has loaded. */
    private final List<Path> leftovers = new ArrayList<>();

    private JournalLoader(Path dir, UUID setUuid, boolean readOnly, long committedSeq) {
        this.dir = dir;
        this.setUuid = setUuid;
        this.readOnly = readOnly;
        this.committedSeq = committedSeq;
    }

    /**
     * Loads the journal in {@code dir}, creating its first segment (starting at {@code firstSeq})
     * if it has none; read-only, a directory without segments is an error.
     */
    static Loaded load(Path dir, UUID setUuid, long firstSeq, long nowMicros, boolean readOnly, long committedSeq) throws IOException {
        return new JournalLoader(dir, setUuid, readOnly, committedSeq).load(firstSeq, nowMicros);
    }

    private Loaded load(long firstSeq, long nowMicros) throws IOException {
        if (readOnly && !Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "no journal directory");
        }
        if (!Files.isDirectory(dir)) {
            dev.rewind.volumeset.io.DurableFiles.createDirectories(dir);
            JournalSegment.forceDirectory(dir.toAbsolutePath().getParent()); // else a power cut may lose the new directory, flushed records and all
        }
        List<Path> files = segmentFiles();
        List<JournalSegment> segments = new ArrayList<>();
        List<JournalIndex.Part> parts = new ArrayList<>();
        Path tornNewest = null;
        try {
            for (int f = 0; f < files.size(); f++) {
                JournalSegment seg = JournalSegment.open(files.get(f), setUuid, f == files.size() - 1, readOnly);
                if (seg == null) {
                    tornNewest = files.get(f);
                } else {
                    segments.add(seg);
                }
            }
            for (int s = 0; s < segments.size(); s++) {
                JournalSegment seg = segments.get(s);
                if (!parts.isEmpty()) {
                    checkFollowsOn(parts, seg);
                }
                SegmentEntries entries;
                if (s < segments.size() - 1) {
                    entries = sealedEntries(seg);
                } else {
                    // the newest segment, or the one sealed before a newest whose header was torn
                    entries = scan(seg, tornNewest == null, tornNewest == null);
                }
                parts.add(new JournalIndex.Part(seg, entries, this::rebuild));
            }
            if (!readOnly && !segments.isEmpty()) {
                // an index is only kept for sealed segments
                Files.deleteIfExists(SegmentIndexFile.pathFor(segments.get(segments.size() - 1).path()));
            }
            if (!readOnly) {
                for (Path p : leftovers) {
                    LOG.info("journal {}: removing {} left by a crash", dir, p);
                    Files.deleteIfExists(p);
                }
            }
            if (tornNewest != null) {
                LOG.warn("journal {}: {} newest segment {} whose header was torn by a crash", dir,
                        readOnly ? "ignoring" : "removing", tornNewest);
                if (!readOnly) {
                    truncatedBytes += Files.size(tornNewest);
                    Files.delete(tornNewest);
                    JournalSegment.forceDirectory(dir);
                }
            }
            if (parts.isEmpty()) {
                if (readOnly) {
                    throw new NoSuchFileException(dir.toString(), null, "no journal segments");
                }
                JournalSegment seg = JournalSegment.create(dir, setUuid, firstSeq, nowMicros);
                segments.add(seg);
                parts.add(new JournalIndex.Part(seg, new ActiveSegmentIndex(), this::rebuild));
            }
        } catch (IOException | RuntimeException e) {
            for (JournalSegment seg : segments) {
                seg.close();
            }
            throw e;
        }
        JournalIndex index = new JournalIndex(parts.toArray(new JournalIndex.Part[0]));
        long lastSeq = index.lastSeq();
        if (lastSeq < committedSeq) {
            for (JournalSegment seg : segments) {
                seg.close();
            }
            throw new CorruptDataException(dir, 0, "the journal ends at seq " + lastSeq + " but the set's transaction log has committed "
                    + "its writes up to seq " + committedSeq + ": durable journal records are missing");
        }
        return new Loaded(index, truncatedBytes, lastTimeMicros(parts), this::rebuild);
    }

    private List<Path> segmentFiles() throws IOException {
        List<Path> segments;
        List<Path> others;
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> all = s.toList();
            segments = all.stream().filter(p -> p.getFileName().toString().endsWith(JournalSegment.SUFFIX)).sorted().toList();
            others = all.stream().filter(p -> !p.getFileName().toString().endsWith(JournalSegment.SUFFIX)).toList();
        }
        for (Path p : others) {
            String name = p.getFileName().toString();
            boolean orphanIndex = name.endsWith(JournalSegment.SUFFIX + SegmentIndexFile.SUFFIX)
                    && !Files.exists(p.resolveSibling(name.substring(0, name.length() - SegmentIndexFile.SUFFIX.length())));
            if (SegmentIndexFile.isTemp(p) || orphanIndex) {
                leftovers.add(p);
            }
        }
        return segments;
    }

    /**
     * Checks that {@code seg} starts right after the last part; if the last part's index file
     * disagrees, that index is rebuilt from its segment before the gap is called corruption.
     */
    private void checkFollowsOn(List<JournalIndex.Part> parts, JournalSegment seg) throws IOException {
        JournalIndex.Part prev = parts.get(parts.size() - 1);
        if (seg.firstSeq() != prev.lastSeq() + 1 && prev.uncheckedEntries() instanceof SegmentIndexFile f) {
            JournalIndex.Part rebuilt = new JournalIndex.Part(prev.segment(),
                    rebuild(prev.segment(), "index file " + f.path() + " counts " + f.count()
                            + " records but the next segment starts at seq " + seg.firstSeq()), this::rebuild);
            parts.set(parts.size() - 1, rebuilt);
            prev = rebuilt;
        }
        if (seg.firstSeq() != prev.lastSeq() + 1) {
            throw new CorruptDataException(seg.path(), 32, "segment starts at seq " + seg.firstSeq()
                    + " but the previous one ended at " + prev.lastSeq());
        }
    }

    /** A sealed segment's entries: its index file, mapped, if its header describes this segment; else rebuilt by a scan. */
    private SegmentEntries sealedEntries(JournalSegment seg) throws IOException {
        SegmentIndexFile.Opened opened = SegmentIndexFile.open(seg.path(), seg.firstSeq(), seg.sizeBytes());
        if (opened.index() != null) {
            return opened.index();
        }
        return rebuild(seg, opened.problem());
    }

    /**
     * Scans a sealed segment whose index cannot be trusted and, unless read-only, writes its
     * index file anew and maps it; read-only, the scanned entries stay in the heap.
     */
    private SegmentEntries rebuild(JournalSegment seg, String problem) throws IOException {
        LOG.warn("journal {}: {}; rebuilding the index of {} by scanning it", dir, problem, seg.path());
        ActiveSegmentIndex scanned = scan(seg, false, false);
        if (readOnly) {
            return scanned;
        }
        SegmentIndexFile.write(seg.path(), seg.firstSeq(), seg.sizeBytes(), scanned);
        SegmentIndexFile.Opened reopened = SegmentIndexFile.open(seg.path(), seg.firstSeq(), seg.sizeBytes());
        if (reopened.index() == null || !reopened.index().entriesAreIntact()) {
            throw new IOException("index file of " + seg.path() + " does not read back as written: " + reopened.problem());
        }
        return reopened.index();
    }

    /**
     * Scans a sealed segment as {@link Journal#verify} does: every record header checked, any
     * bad one is corruption; returns the entries found.
     */
    static SegmentEntries scanSealedHeaders(Path dir, JournalSegment seg) throws IOException {
        return new JournalLoader(dir, null, true, 0).scan(seg, false, false);
    }

    /**
     * Reads every record header of a segment, checking seqs follow on from its first seq, and
     * with {@code checkPayloads} every payload's CRC. A bad record is corruption unless it is
     * the newest segment's torn tail ({@code newest}).
     */
    private ActiveSegmentIndex scan(JournalSegment seg, boolean newest, boolean checkPayloads) throws IOException {
        ActiveSegmentIndex entries = new ActiveSegmentIndex();
        long expectedSeq = seg.firstSeq();
        long pos = JournalSegment.SEGMENT_HEADER_BYTES;
        String[] why = new String[1];
        JournalSegment.Scanner scanner = seg.new Scanner();
        while (pos < seg.sizeBytes()) {
            JournalSegment.Header h = scanner.header(pos, why);
            if (h != null && pos + JournalSegment.RECORD_HEADER_BYTES + h.payloadBytes() > seg.sizeBytes()) {
                h = null;
                why[0] = "record payload runs past the end of the segment";
            }
            if (h != null && checkPayloads && h.payloadBytes() > 0 && !scanner.payloadIsIntact(pos, h)) {
                why[0] = "record payload does not match its CRC32C";
                h = null;
            }
            if (h == null) {
                if (newest && expectedSeq <= committedSeq) {
                    throw new CorruptDataException(seg.path(), pos, why[0] + " (seq " + expectedSeq + " belongs to a committed "
                            + "transaction, which made it durable up to seq " + committedSeq + ": corruption, not a torn tail)");
                }
                if (!newest || seg.flushMarksCovering(pos, expectedSeq) >= 2) {
                    throw new CorruptDataException(seg.path(), pos, why[0]
                            + (newest ? " (flush marks after it show it had been forced: corruption, not a torn tail)" : ""));
                }
                long dropped = seg.sizeBytes() - pos;
                if (readOnly) {
                    LOG.warn("journal {}: ignoring torn tail of {} at offset {} ({} bytes): {}", dir, seg.path(), pos, dropped, why[0]);
                } else {
                    LOG.warn("journal {}: truncating torn tail of {} at offset {} ({} bytes): {}", dir, seg.path(), pos, dropped, why[0]);
                    truncatedBytes += dropped;
                    seg.truncate(pos);
                }
                break;
            }
            if (h.type().isNumbered()) {
                if (h.seq() != expectedSeq) {
                    throw new CorruptDataException(seg.path(), pos, "record has seq " + h.seq() + ", expected " + expectedSeq);
                }
                entries.add(h.type(), h.flags(), h.memberIndex(), h.offsetBytes(), h.lengthBytes(), h.timeMicros(), pos);
                expectedSeq++;
            }
            pos += JournalSegment.RECORD_HEADER_BYTES + h.payloadBytes();
        }
        return entries;
    }

    private static long lastTimeMicros(List<JournalIndex.Part> parts) {
        for (int p = parts.size() - 1; p >= 0; p--) {
            SegmentEntries e = parts.get(p).entries();
            if (e.count() > 0) {
                return e.time(e.count() - 1);
            }
        }
        return Long.MIN_VALUE;
    }
}
