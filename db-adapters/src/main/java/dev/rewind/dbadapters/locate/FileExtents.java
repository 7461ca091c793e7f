package dev.rewind.dbadapters.locate;

import dev.rewind.volumeset.RewindException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A file's physical extents on the block device of its file system, read through the
 * kernel's FIEMAP with {@code filefrag -v -b1} (a block size of one byte, so every number it
 * prints is a byte offset or length). An extent whose place is not final (delayed
 * allocation, unknown location), inline data or encoded data has no bytes of its own on the
 * device; finding a range there is refused with the advice to sync first.
 *
 * <pre>
 *  ext:     logical_offset:        physical_offset: length:   expected: flags:
 *    0:        0..  196607: 35195060224..35195256831: 196608:             last,eof
 * </pre>
 */
public final class FileExtents {
    /** One extent: {@code lengthBytes} bytes of the file at {@code logicalBytes} lie on the device at {@code physicalBytes}. */
    public record Extent(long logicalBytes, long physicalBytes, long lengthBytes, Set<String> flags) {
        public boolean contains(long fileOffsetBytes, long lengthBytes) {
            return fileOffsetBytes >= logicalBytes && fileOffsetBytes + lengthBytes <= logicalBytes + this.lengthBytes;
        }
    }

    private static final Pattern LINE = Pattern.compile(
            "^\\s*\\d+:\\s*(\\d+)\\.\\.\\s*(\\d+):\\s*(\\d+)\\.\\.\\s*(\\d+):\\s*(\\d+):\\s*(?:\\d+:)?\\s*(\\S*)\\s*$");
    private static final Set<String> NO_PLACE = Set.of("unknown_loc", "delalloc", "inline", "data_inline", "encoded", "not_aligned");
    private static final long TIMEOUT_SECONDS = 60;

    private final Path file;
    private final List<Extent> extents;

    FileExtents(Path file, List<Extent> extents) {
        this.file = file;
        this.extents = List.copyOf(extents);
    }

    /** Runs {@code filefrag -v -b1 file}; refuses clearly when filefrag is missing or fails. */
    public static FileExtents of(Path file) throws IOException {
        Path filefrag = findFilefrag();
        if (filefrag == null) {
            throw new RewindException("filefrag is not installed, so " + file + " cannot be mapped to its blocks; install e2fsprogs");
        }
        Process p = new ProcessBuilder(filefrag.toString(), "-v", "-b1", file.toString()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out;
        try (InputStream in = p.getInputStream()) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            in.transferTo(buf);
            out = buf.toString(StandardCharsets.UTF_8);
        }
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new RewindException("filefrag did not finish within " + TIMEOUT_SECONDS + "s for " + file);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while mapping " + file, e);
        }
        if (p.exitValue() != 0) {
            throw new RewindException("filefrag cannot map " + file + ": " + lastLine(out));
        }
        return parse(file, out);
    }

    /** The extents in filefrag's {@code -v -b1} output. */
    static FileExtents parse(Path file, String filefragOutput) {
        List<Extent> extents = new ArrayList<>();
        for (String line : filefragOutput.split("\\R")) {
            Matcher m = LINE.matcher(line);
            if (m.matches()) {
                long logicalFirst = Long.parseLong(m.group(1));
                long physicalFirst = Long.parseLong(m.group(3));
                long length = Long.parseLong(m.group(5));
                Set<String> flags = m.group(6).isEmpty() ? Set.of() : Set.of(m.group(6).split(","));
                extents.add(new Extent(logicalFirst, physicalFirst, length, flags));
            }
        }
        return new FileExtents(file, extents);
    }

    public Path file() {
        return file;
    }

    public List<Extent> extents() {
        return extents;
    }

    /**
     * The byte offset on the file system's device of the file's {@code lengthBytes} bytes at
     * {@code fileOffsetBytes}; refuses when they are not in one placed extent.
     */
    public long physicalOffset(long fileOffsetBytes, long lengthBytes) {
        for (Extent e : extents) {
            if (e.contains(fileOffsetBytes, lengthBytes)) {
                for (String flag : e.flags()) {
                    if (NO_PLACE.contains(flag)) {
                        throw new RewindException("byte " + fileOffsetBytes + " of " + file + " has no place of its own on the device yet ("
                                + flag + "); run sync and try again");
                    }
                }
                return e.physicalBytes() + (fileOffsetBytes - e.logicalBytes());
            }
        }
        throw new RewindException("bytes " + fileOffsetBytes + ".." + (fileOffsetBytes + lengthBytes - 1) + " of " + file
                + " are not in one extent on the device (a hole, or split across extents); run sync and try again");
    }

    private static String lastLine(String out) {
        String[] lines = out.strip().split("\\R");
        return lines.length == 0 || lines[lines.length - 1].isBlank() ? "no output" : lines[lines.length - 1];
    }

    /** {@code filefrag} on PATH or in the sbin directories, or null. */
    static Path findFilefrag() {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String dir : dirs) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "filefrag"))) {
                return Path.of(dir, "filefrag");
            }
        }
        return null;
    }
}
