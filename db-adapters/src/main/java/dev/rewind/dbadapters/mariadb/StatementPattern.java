package dev.rewind.dbadapters.mariadb;

import dev.rewind.volumeset.RewindException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code rewind db find --sql} matches in a binlog's statement text: the words the DBA
 * typed, in order, anywhere in the statement, with case, spacing and backticks ignored, an
 * optional {@code TABLE} keyword between words and an optional schema prefix before a name
 * tolerated (in the statement and in what was typed), so {@code TRUNCATE orders} matches {@code TRUNCATE TABLE `shop`.`orders`} and
 * {@code delete from account} matches {@code DELETE  FROM shop.account}. A name typed with
 * its schema ({@code shop.orders}) matches only that schema's table.
 *
 * <p>{@code DROP}, {@code TRUNCATE} or {@code ALTER} followed by table names only
 * ({@code DROP TABLE t2}, {@code TRUNCATE shop.orders}) matches a statement of that verb
 * whose table list ({@code DROP TABLE IF EXISTS `t1`,`t2`}) holds one of the names, whole:
 * {@code DROP TABLE t2} never matches a drop of {@code t3} or {@code t22}.
 */
final class StatementPattern {
    private static final String NAME = "[\\w$]+";
    private static final String TABLE = NAME + "(?:\\." + NAME + ")?";
    private static final String TABLES = "(" + TABLE + "(?: ?, ?" + TABLE + ")*)";
    /** Typed: a verb and table names only. */
    private static final Pattern TYPED_DDL = Pattern.compile("(drop|truncate|alter)(?: temporary)?(?: table)?(?: if exists)? " + TABLES);
    /** In a statement: a verb and the table list it acts on, after any leading comments. */
    private static final Pattern STATEMENT_DDL = Pattern.compile(
            "(?:/\\*.*?\\*/ ?)*(drop|truncate|alter) (?:temporary )?(?:table )?(?:if exists )?" + TABLES);

    /** Words that may follow the verb and are no table name ({@code DROP TABLE} alone names none). */
    private static final List<String> KEYWORDS = List.of("table", "temporary", "if", "exists");

    private final String text;
    private final Pattern pattern;
    private final String ddlVerb;
    private final List<String> ddlTables;

    private StatementPattern(String text, Pattern pattern, String ddlVerb, List<String> ddlTables) {
        this.text = text;
        this.pattern = pattern;
        this.ddlVerb = ddlVerb;
        this.ddlTables = ddlTables;
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
        String start = first.substring(0, 1).matches(NAME) ? "(?<![\\w$.])" : "";
        String end = words.substring(words.length() - 1).matches(NAME) ? "(?![\\w$])" : "";
        Pattern pattern = Pattern.compile(start + String.join("\\s+(?:table\\s+)?", parts) + end);
        Matcher ddl = TYPED_DDL.matcher(words);
        if (ddl.matches() && tables(ddl.group(2)).stream().noneMatch(KEYWORDS::contains)) {
            return new StatementPattern(sql, pattern, ddl.group(1), tables(ddl.group(2)));
        }
        return new StatementPattern(sql, pattern, null, List.of());
    }

    private static List<String> tables(String list) {
        return Arrays.stream(list.split(",")).map(String::strip).toList();
    }

    /** Whether {@code statement} contains the words (or, for a typed DDL statement, is that statement on one of the tables). */
    boolean matches(String statement) {
        String normalized = normalize(statement);
        if (ddlVerb == null) {
            return pattern.matcher(normalized).find();
        }
        Matcher m = STATEMENT_DDL.matcher(normalized);
        if (!m.lookingAt() || !m.group(1).equals(ddlVerb)) {
            return false;
        }
        for (String table : tables(m.group(2))) {
            for (String asked : ddlTables) {
                if (namesSameTable(asked, table)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A bare name asked for matches the table in any schema; a qualified one only in its schema. */
    private static boolean namesSameTable(String asked, String inStatement) {
        if (asked.contains(".")) {
            return asked.equals(inStatement);
        }
        return asked.equals(inStatement.substring(inStatement.lastIndexOf('.') + 1));
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
