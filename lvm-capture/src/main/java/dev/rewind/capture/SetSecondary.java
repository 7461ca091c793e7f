package dev.rewind.capture;

import dev.rewind.increments.journal.Journal;
import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.increments.replica.ReplicaImage;
import dev.rewind.increments.transaction.IncrementStore;
import dev.rewind.increments.transaction.TransactionLog;
import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.SetRecord;
import dev.rewind.volumeset.io.DurableFiles;
import dev.rewind.volumeset.io.FileAccess;
import dev.rewind.volumeset.io.PrivateFiles;
import dev.rewind.volumeset.layout.PrimaryMember;
import dev.rewind.volumeset.layout.SetPrimaries;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The layout of a set's secondary directory, and opening it whole or not at all:
 * <pre>
 * SET                 label: the set's name and UUID (a swapped directory is refused)
 * set.lock            one process at a time
 * journal/            every write, in segments with index files
 * drl                 the dirty region log
 * replica/            the set at the newest cut, one image and checksum table per member
 * transactions/       the committed transactions (the commit point of a cut)
 * increments/         each transaction's forward and backward increment
 * maps/               merged delta maps of aligned spans of transactions (derived; rebuilt if missing)
 * restore-intent      only while a restore in place runs or after one was cut short
 * </pre>
 * The directory is 0700 (0750 with the data dir's group) and everything in it 0600/0640
 * ({@link PrivateFiles}); one that others can write is refused at open.
 */
public final class SetSecondary {
    private static final Logger LOG = LoggerFactory.getLogger(SetSecondary.class);
    static final String LABEL_FILE = "SET";

    private SetSecondary() {
    }

    /** The parts of an opened secondary, handed to the set that runs on them. */
    record Opened(SetLock lock, Journal journal, DirtyRegionLog drl, List<ReplicaImage> replicas, TransactionLog transactions,
                  IncrementStore increments) {
        /** Closes every part after {@code e} made the open fail. */
        void closeAfter(Exception e) {
            List<AutoCloseable> parts = new ArrayList<>(List.of(journal, drl, transactions, increments));
            parts.addAll(replicas);
            parts.add(lock);
            closeAll(parts, e);
        }
    }

    /** Bytes the secondary holds, by part. */
    public record Usage(long journalBytes, long incrementBytes, long replicaBytes, long deltaMapBytes) {
    }

    /**
     * Lays out a new set's secondary: its label, an empty journal, a clean DRL, a replica of
     * every member as it is now, an empty transaction log. Everything, down to the secondary's
     * own directory entry, is forced before this returns, so a set the catalog then records
     * survives power loss.
     */
    static void initialize(SetRecord set, SetPrimaries primaries, FileAccess access, ProgressListener progress) throws IOException {
        Path dir = set.secondaryDir();
        if (Files.isDirectory(dir)) {
            PrivateFiles.restrict(dir, access, true); // an empty directory given for it becomes the set's own
        } else {
            DurableFiles.createDirectories(dir, access);
        }
        DurableFiles.writeAtomically(dir.resolve(LABEL_FILE), label(set).getBytes(StandardCharsets.UTF_8), true);
        try (Journal j = Journal.open(dir.resolve("journal"), set.uuid(), 1, Journal.DEFAULT_SEGMENT_BYTES, java.time.Clock.systemUTC())) {
            j.flush();
        }
        long[] sizes = primaries.members().stream().mapToLong(PrimaryMember::sizeBytes).toArray();
        DirtyRegionLog.create(dir.resolve("drl"), set.regionSizeBytes(), sizes).close();
        for (PrimaryMember m : primaries.members()) {
            ReplicaImage.create(dir.resolve("replica"), m.name(), m.sizeBytes(), m::read, progress).close();
        }
        TransactionLog.open(dir.resolve("transactions"), set.uuid(), 0).close();
        new IncrementStore(dir.resolve("increments")).close();
        DurableFiles.createDirectories(dir.resolve("maps")); // the merged delta maps (SpanMaps); made here so that opening changes nothing
        DurableFiles.forceDirectory(dir);
    }

    /** Checks the label, takes the lock, and opens every part (recovering the journal); all or nothing. */
    static Opened open(SetRecord set, SetPrimaries primaries, CaptureOptions options) throws IOException {
        Path dir = set.secondaryDir();
        if (!Files.isDirectory(dir)) {
            throw new RewindException("secondary directory " + dir + " of set " + set.name() + " is missing; mount or restore it first");
        }
        PrivateFiles.checkPrivate(dir, "secondary directory of set " + set.name());
        checkLabel(set, dir);
        SetLock lock = SetLock.acquire(set.name(), dir);
        List<AutoCloseable> opened = new ArrayList<>();
        try {
            Journal journal = Journal.open(dir.resolve("journal"), set.uuid(), 1, options.journalSegmentBytes(), options.clock(),
                    TransactionLog.committedSeq(dir.resolve("transactions")));
            opened.add(journal);
            long[] sizes = primaries.members().stream().mapToLong(PrimaryMember::sizeBytes).toArray();
            DirtyRegionLog drl = DirtyRegionLog.open(dir.resolve("drl"), set.regionSizeBytes(), sizes);
            opened.add(drl);
            List<ReplicaImage> replicas = new ArrayList<>();
            for (PrimaryMember m : primaries.members()) {
                ReplicaImage r = ReplicaImage.open(dir.resolve("replica"), m.name(), m.sizeBytes());
                replicas.add(r);
                opened.add(r);
            }
            TransactionLog log = TransactionLog.open(dir.resolve("transactions"), set.uuid(), journal.firstSeq() - 1);
            opened.add(log);
            IncrementStore increments = new IncrementStore(dir.resolve("increments"));
            return new Opened(lock, journal, drl, replicas, log, increments);
        } catch (IOException | RuntimeException e) {
            opened.add(lock);
            closeAll(opened, e);
            throw e;
        }
    }

    /** Closes each part, adding what goes wrong to {@code cause}. */
    private static void closeAll(List<AutoCloseable> parts, Exception cause) {
        for (AutoCloseable c : parts) {
            try {
                c.close();
            } catch (Exception suppressed) {
                cause.addSuppressed(suppressed);
            }
        }
    }

    private static void checkLabel(SetRecord set, Path dir) throws IOException {
        Path label = dir.resolve(LABEL_FILE);
        if (!Files.exists(label)) {
            throw new RewindException("secondary directory " + dir + " carries no Rewind set label; is it the right directory?");
        }
        String text = Files.readString(label, StandardCharsets.UTF_8);
        if (!text.contains("uuid=" + set.uuid() + "\n")) {
            throw new RewindException("secondary directory " + dir + " belongs to another set (" + text.replace('\n', ' ').trim()
                    + "), not " + set.name() + " " + set.uuid());
        }
        if (!text.equals(label(set))) {
            throw new CorruptDataException(label, 0, "the set label reads '" + text.replace('\n', ' ').trim() + "', not '"
                    + label(set).replace('\n', ' ').trim() + "'; nothing was changed (write the expected text back if that is the set)");
        }
    }

    /** The text of the set's label file, as {@link #initialize} writes it. */
    private static String label(SetRecord set) {
        return "rewind-set 1\nuuid=" + set.uuid() + "\nname=" + set.name() + "\n";
    }

    static Usage usage(Path dir, Journal journal, IncrementStore increments, long deltaMapBytes) throws IOException {
        long replica = 0;
        try (Stream<Path> s = Files.list(dir.resolve("replica"))) {
            for (Path p : s.sorted(Comparator.naturalOrder()).toList()) {
                replica += Files.size(p);
            }
        }
        return new Usage(journal.sizeBytes(), increments.sizeBytes(), replica, deltaMapBytes);
    }

    /** Removes a secondary directory and everything in it (best effort, logged). */
    static void delete(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warn("could not remove {}: {}", dir, e.toString());
        }
    }
}
