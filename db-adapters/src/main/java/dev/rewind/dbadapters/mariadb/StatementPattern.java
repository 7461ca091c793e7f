package dev.rewind.dbadapters.mariadb;

import dev.rewind.volumeset.RewindException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What {@code rewind db find --sql} matches in a binlog's statement text: the words the DBA
 * typed, in order, anywhere in the statement, with case, spacing and backticks ignored, an
 * optional {@code TABLE} keyword between words and an optional schema prefix before a name
 * tolerated (in the statement and in what was typed), so {@code TRUNCATE orders} matches {@code TRUNCATE TABLE `shop`.`orders`} and
 * {@code delete from account} matches {@code DELETE  FROM shop.account}.
 */
final class StatementPattern {
    private static final String NAME = "[\\w$]+";
    private final String text;
    private final Pattern pattern;

    private StatementPattern(String text, Pattern pattern) {
        this.text = text;
        this.pattern = pattern;
    }

    static StatementPattern of(String sql) {
        String words = normalize(sql == null ? "" : sql).replaceAll("[;\\s]+$", "");
        if (words.isEmpty()) {
            throw new RewindException("give the statement to look for, e.g. --sql 'TRUNCATE orders' or --sql 'DROP TABLE'");
        }
        String[] split = words.split(" ");
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < split.length; i++) {
            String word = split[i];
            if (word.equals("table") && i > 0 && i < split.length - 1) {
                continue; // between two words TABLE is optional either way: the separator allows it
            }
            String quoted = Pattern.quote(word);
            parts.add(word.matches(NAME) ? "(?:" + NAME + "\\.)?" + quoted : quoted);
        }
        String first = split[0];
        String start = first.matches(NAME) ? "(?<![\\w$.])" : "";
        String end = words.substring(words.length() - 1).matches(NAME) ? "(?![\\w$])" : "";
        return new StatementPattern(sql, Pattern.compile(start + String.join("\\s+(?:table\\s+)?", parts) + end));
    }

    /** Whether {@code statement} contains the words. */
    boolean matches(String statement) {
        return pattern.matcher(normalize(statement)).find();
    }

    /** Lower case, no backticks, runs of white space as one space. */
    static String normalize(String s) {
        return s.toLowerCase(Locale.ROOT).replace("`", "").replaceAll("\\s+", " ").strip();
    }

    @Override
    public String toString() {
        return text;
    }
}
