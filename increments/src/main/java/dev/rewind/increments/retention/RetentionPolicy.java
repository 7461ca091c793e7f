package dev.rewind.increments.retention;

import dev.rewind.volumeset.Durations;
import dev.rewind.volumeset.RewindException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Which points of a set's history stay, as rules that each keep points for a while:
 * {@code every-write:24h,transactions:7d,hourly:30d,daily:1y,bookmarks:90d,consistent:forever}.
 * A point that no rule keeps (and nothing pins) is faded out.
 *
 * <ul>
 *   <li>{@code every-write:D}: every single write stays restorable for D (the journal);</li>
 *   <li>{@code transactions:D}: every transaction boundary younger than D;</li>
 *   <li>{@code hourly:D}, {@code daily:D}, {@code weekly:D}, {@code monthly:D}: the newest
 *       boundary of each hour (day, week from Monday, month; UTC) younger than D;</li>
 *   <li>{@code bookmarks:D}: the point of every bookmark made in the last D;
 *       {@code consistent:D} the same for consistent bookmarks only.</li>
 * </ul>
 * {@code all} keeps everything (the default). A policy of {@code every-write:D} alone keeps
 * every transaction boundary forever, as sets made before these rules did; once any other rule
 * is given, the boundaries no rule names go. The newest point always stays.
 *
 * @param everyWrite how long every write stays exact; null: forever
 * @param rules      the rules for points older than that, each for a duration ({@link #FOREVER} for ever)
 */
public record RetentionPolicy(Duration everyWrite, Map<Rule, Duration> rules) {
    /** A rule's duration that never ends. */
    public static final Duration FOREVER = Duration.ofSeconds(Long.MAX_VALUE);
    public static final RetentionPolicy ALL = new RetentionPolicy(null, Map.of());

    /** The rules after {@code every-write}, in the order they are written. */
    public enum Rule {
        TRANSACTIONS("transactions"), HOURLY("hourly"), DAILY("daily"), WEEKLY("weekly"), MONTHLY("monthly"),
        BOOKMARKS("bookmarks"), CONSISTENT("consistent");

        private final String label;

        Rule(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    public RetentionPolicy {
        EnumMap<Rule, Duration> copy = new EnumMap<>(Rule.class);
        copy.putAll(rules);
        rules = java.util.Collections.unmodifiableMap(copy);
    }

    /** Parses {@code all} or comma-separated {@code rule:DURATION} ({@code forever} for ever); a clear refusal for anything else. */
    public static RetentionPolicy parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        if (t.isEmpty()) {
            throw new RewindException("an empty retention policy; use all, or rules such as every-write:24h,hourly:7d,daily:30d");
        }
        if (t.equals("all")) {
            return ALL;
        }
        Duration everyWrite = null;
        Map<Rule, Duration> rules = new EnumMap<>(Rule.class);
        boolean everyWriteGiven = false;
        for (String part : t.split(",")) {
            String p = part.trim();
            int colon = p.indexOf(':');
            if (colon <= 0 || colon == p.length() - 1) {
                throw new RewindException("'" + p + "' is not a retention rule; write RULE:DURATION such as hourly:7d, with RULE one of "
                        + labels());
            }
            String name = p.substring(0, colon).trim();
            Duration d = duration(name, p.substring(colon + 1).trim());
            if (name.equals("every-write")) {
                if (everyWriteGiven) {
                    throw new RewindException("every-write is given twice in the retention policy");
                }
                everyWriteGiven = true;
                everyWrite = d == FOREVER ? null : d;
                continue;
            }
            Rule rule = rule(name).orElseThrow(() -> new RewindException("'" + name + "' is not a retention rule; use one of " + labels()));
            if (rules.put(rule, d) != null) {
                throw new RewindException(name + " is given twice in the retention policy");
            }
        }
        return new RetentionPolicy(everyWrite, rules);
    }

    private static Duration duration(String rule, String text) {
        if (text.equals("forever")) {
            return FOREVER;
        }
        try {
            Duration d = text.matches("\\d{1,6}[wy]")
                    ? Duration.ofDays(Long.parseLong(text.substring(0, text.length() - 1)) * (text.endsWith("w") ? 7 : 365))
                    : Durations.parse(text);
            if (d.isZero() || d.isNegative()) {
                throw new RewindException("a rule keeps points for a positive time");
            }
            return d;
        } catch (RewindException e) {
            throw new RewindException(rule + ":" + text + " does not give a duration (" + e.getMessage() + "); use e.g. 24h, 7d, 2w, 1y or forever");
        }
    }

    private static Optional<Rule> rule(String label) {
        for (Rule r : Rule.values()) {
            if (r.label.equals(label)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    private static String labels() {
        List<String> names = new ArrayList<>(List.of("every-write"));
        for (Rule r : Rule.values()) {
            names.add(r.label);
        }
        return String.join(", ", names);
    }

    /** Keeps every transaction boundary: no rule after every-write was given. */
    public boolean keepsEveryBoundary() {
        return rules.isEmpty();
    }

    /** A duration of a rule as written: {@code 7d}, {@code forever}. */
    public static String format(Duration d) {
        return d == null || d.equals(FOREVER) ? "forever" : Durations.format(d);
    }

    /** The policy as {@link #parse} reads it: {@code all}, or {@code every-write:24h,hourly:7d}. */
    public String text() {
        if (everyWrite == null && rules.isEmpty()) {
            return "all";
        }
        List<String> parts = new ArrayList<>();
        parts.add("every-write:" + format(everyWrite));
        rules.forEach((r, d) -> parts.add(r.label + ":" + format(d)));
        return String.join(",", parts);
    }

    /** The rules after every-write as {@link #parse} reads them ({@code hourly:7d,daily:30d}), or null if there are none. */
    public String rulesText() {
        if (rules.isEmpty()) {
            return null;
        }
        List<String> parts = new ArrayList<>();
        rules.forEach((r, d) -> parts.add(r.label + ":" + format(d)));
        return String.join(",", parts);
    }

    /** The policy of an every-write horizon (null: forever) and {@link #rulesText} (null: none). */
    public static RetentionPolicy of(Duration everyWrite, String rulesText) {
        return (rulesText == null ? ALL : parse(rulesText)).withEveryWrite(everyWrite);
    }

    /** The same policy with every write kept for {@code d} (null: forever). */
    public RetentionPolicy withEveryWrite(Duration d) {
        return new RetentionPolicy(d, rules);
    }
}
