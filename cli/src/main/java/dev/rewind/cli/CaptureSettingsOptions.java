package dev.rewind.cli;

import dev.rewind.cli.datadir.CatalogCapture;
import dev.rewind.increments.increment.IncrementCodec;
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

    @Option(names = "--keep", paramLabel = "all|every-write:DURATION",
            description = "How long every single write stays restorable: all (the default: forever), or every-write:24h "
                    + "(older points restore at transaction boundaries; their journal is freed).")
    String keep;

    boolean anyGiven() {
        return cutEvery != null || cutAdaptive != null || cutWrites != null || cutBytes != null || codec != null || keep != null;
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
            s = s.withKeepEveryWrite(keep(cl));
        }
        try {
            CatalogCapture.cutRules(s);
        } catch (RewindException e) {
            throw new ParameterException(cl, e.getMessage());
        }
        return s;
    }

    private Duration keep(CommandLine cl) {
        String k = keep.trim().toLowerCase(Locale.ROOT);
        if (k.equals("all")) {
            return null;
        }
        if (!k.startsWith("every-write:")) {
            throw new ParameterException(cl, "--keep '" + keep + "' is not a retention rule; use all or every-write:DURATION, such as every-write:24h");
        }
        return duration(cl, "--keep", k.substring("every-write:".length()));
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
