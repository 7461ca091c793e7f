package dev.rewind.cli;

import dev.rewind.increments.replica.ProgressListener;
import dev.rewind.volumeset.Sizes;
import java.io.PrintWriter;

/** A one-line progress display on stderr for long work, redrawn at most ten times a second. */
public final class Progress implements ProgressListener, AutoCloseable {
    private final PrintWriter err;
    private final String what;
    private final long totalBytes;
    private final boolean show;
    private long doneBytes;
    private long lastDrawNanos;

    Progress(PrintWriter err, String what, long totalBytes, boolean show) {
        this.err = err;
        this.what = what;
        this.totalBytes = totalBytes;
        this.show = show;
    }

    @Override
    public synchronized void advanced(long bytes) {
        doneBytes += bytes;
        long now = System.nanoTime();
        if (show && now - lastDrawNanos > 100_000_000L) {
            lastDrawNanos = now;
            String pct = totalBytes > 0 ? String.format(" %3d%%", Math.min(100, doneBytes * 100 / totalBytes)) : "";
            err.print("\r" + what + ":" + pct + " " + Sizes.format(doneBytes) + (totalBytes > 0 ? " of " + Sizes.format(totalBytes) : "") + "   ");
            err.flush();
        }
    }

    @Override
    public void close() {
        if (show && lastDrawNanos != 0) {
            err.print("\r\033[K");
            err.flush();
        }
    }
}
