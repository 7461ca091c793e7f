package dev.rewind.cli;

import dev.rewind.cli.datadir.CatalogCapture;
import dev.rewind.increments.increment.IncrementCodec;
import dev.rewind.increments.retention.RetentionPolicy;
import dev.rewind.increments.transaction.CutRules;
import dev.rewind.volumeset.Durations;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.SetSettings;
import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The options of {@code rewind set create|update} that say how a set is captured: cut rules,
 * increment codec, every-write horizon. Each is checked here, before anything is changed; a
 * bad one is a usage error naming the option and the value.
 */
final class CaptureSettingsOptions {
    @Option(names = "--cut-every", paramLabel = "DURATION",
            description = "Cut a transaction on this fixed period (e.g. 30s, 5m; 0 or off: no period). Run by rewind serve's scheduler.")
    String cutEvery;

    @Option(names = "--cut-adaptive", paramLabel = "MIN..MAX",
            description = "Cut on a period that follows the write rate, shorter when busy, between MIN and MAX (e.g. 5s..5m; 0 or off).")
    String cutAdaptive;

    @Option(names = "--cut-writes", paramLabel = "N", description = "Cut after N writes (0 or off: no limit).")
    String cutWrites;

    @Option(names = "--cut-bytes", paramLabel = "SIZE", description = "Cut after SIZE bytes written (e.g. 256M; 0 or off: no limit).")
    String cutBytes;

    @Option(names = "--codec", paramLabel = "zstd|lz4|none", description = "How increments are compressed (default zstd).")
    String codec;

    @Option(names = "--keep", paramLabel = "all|RULE:DURATION,...",
            description = {"Which points of the history stay: all (the default), or rules such as "
                    + "every-write:24h,transactions:7d,hourly:30d,daily:1y,bookmarks:90d,consistent:forever.",
                    "every-write: every single write stays restorable; transactions: every transaction boundary; hourly, daily, "
                            + "weekly, monthly: the newest boundary of each hour (day, week, month; UTC); bookmarks, consistent: the "
                            + "points of bookmarks (consistent ones) made in that time. DURATION: 30m, 24h, 7d, 2w, 1y or forever.",
                    "With every-write alone, every boundary older than it stays; once other rules are given, older points that no "
                            + "rule keeps are faded out by retention (rewind retain, and rewind serve every minute) and their space freed."})
    String keep;

    @Option(names = "--max-size", paramLabel = "SIZE",
            description = "The most the set's secondary may hold (e.g. 500G; 0 or off: no limit). Past it, retention fades out the "
                    + "oldest points its rules keep until it fits; never the newest, the every-write history or a point a sandbox or "
                    + "restore reads (status then warns that it stays over).")
    String maxSize;

    boolean anyGiven() {
        return cutEvery != null || cutAdaptive != null || cutWrites != null || cutBytes != null || codec != null || keep != null
                || maxSize != null;
    }

    /** {@code base} with the options given applied; a usage error for any bad value, or a bad combination. */
    SetSettings applyTo(SetSettings base, CommandLine cl) {
        SetSettings s = base;
        if (cutEvery != null) {
            s = s.withCutEvery(off(cutEvery) ? null : duration(cl, "--cut-every", cutEvery));
        }
        if (cutAdaptive != null) {
            if (off(cutAdaptive)) {
                s = s.withCutAdaptive(null, null);
            } else {
                Duration[] range = checked(cl, "--cut-adaptive", cutAdaptive, () -> CutRules.parseAdaptive(cutAdaptive));
                s = s.withCutAdaptive(range[0], range[1]);
            }
        }
        if (cutWrites != null) {
            s = s.withCutWrites(off(cutWrites) ? 0 : count(cl, cutWrites));
        }
        if (cutBytes != null) {
            s = s.withCutBytes(off(cutBytes) ? 0 : checked(cl, "--cut-bytes", cutBytes, () -> Sizes.parse(cutBytes)));
        }
        if (codec != null) {
            try {
                s = s.withCodec(IncrementCodec.parse(codec).settingName());
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, "--codec: " + e.getMessage());
            }
        }
        if (keep != null) {
            RetentionPolicy policy = keep(cl);
            s = s.withKeepEveryWrite(policy.everyWrite()).withKeepRules(policy.rulesText());
        }
        if (maxSize != null) {
            s = s.withKeepMaxBytes(off(maxSize) ? 0 : checked(cl, "--max-size", maxSize, () -> Sizes.parse(maxSize)));
        }
        try {
            CatalogCapture.cutRules(s);
        } catch (RewindException e) {
            throw new ParameterException(cl, e.getMessage());
        }
        return s;
    }

    private RetentionPolicy keep(CommandLine cl) {
        RetentionPolicy policy = checked(cl, "--keep", keep, () -> RetentionPolicy.parse(keep));
        if (policy.everyWrite() == null && !policy.keepsEveryBoundary()) {
            throw new ParameterException(cl, "--keep '" + keep + "' keeps every write forever, so its other rules never act; "
                    + "add how long every write stays, e.g. every-write:24h," + keep.trim());
        }
        return policy;
    }

    private static boolean off(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        return t.equals("0") || t.equals("off");
    }

    private static Duration duration(CommandLine cl, String option, String text) {
        return checked(cl, option, text, () -> Durations.parse(text));
    }

    private static long count(CommandLine cl, String text) {
        try {
            long n = Long.parseLong(text.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the message below says what is accepted
        }
        throw new ParameterException(cl, "--cut-writes '" + text + "' is not a number of writes; use a whole number such as 50000, or 0/off");
    }

    private static <T> T checked(CommandLine cl, String option, String text, java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (RewindException e) {
            throw new ParameterException(cl, option + " '" + text + "': " + e.getMessage());
        }
    }
}
