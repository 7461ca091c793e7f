package dev.rewind.dbadapters.postgresql;

import dev.rewind.volumeset.RewindException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The statement {@code db find} looks for in PostgreSQL's WAL, read from the text the DBA
 * gave: a {@code DROP TABLE} or a {@code TRUNCATE}, with the table names if any (lower-cased,
 * quotes removed). WAL keeps what a statement did, not its text, so these are all it can
 * recognise.
 */
record StatementPattern(Kind kind, List<String> names) {
    enum Kind { DROP_TABLE, TRUNCATE }

    private static final String NAME = "[\\w$\".]+";
    private static final String NAMES = "(" + NAME + "(?:\\s*,\\s*" + NAME + ")*)";
    private static final Pattern DROP_TABLE = Pattern.compile(
            "DROP\\s+TABLE(?:\\s+IF\\s+EXISTS)?(?:\\s+" + NAMES + ")?(?:\\s+(?:CASCADE|RESTRICT))?", Pattern.CASE_INSENSITIVE);
    private static final Pattern TRUNCATE = Pattern.compile(
            "TRUNCATE(?:\\s+TABLE)?(?:\\s+ONLY)?(?:\\s+" + NAMES + ")?(?:\\s+(?:RESTART|CONTINUE)\\s+IDENTITY)?(?:\\s+(?:CASCADE|RESTRICT))?",
            Pattern.CASE_INSENSITIVE);
    private static final List<String> KEYWORDS = List.of("cascade", "restrict", "only", "table", "if");

    StatementPattern {
        names = List.copyOf(names);
    }

    /** Reads {@code sql}; a RewindException listing what can be found when it is neither. */
    static StatementPattern parse(String sql) {
        String text = sql == null ? "" : sql.strip().replaceAll(";+$", "").strip().replaceAll("\\s+", " ");
        Matcher drop = DROP_TABLE.matcher(text);
        if (drop.matches()) {
            return new StatementPattern(Kind.DROP_TABLE, names(drop.group(1)));
        }
        Matcher truncate = TRUNCATE.matcher(text);
        if (truncate.matches()) {
            return new StatementPattern(Kind.TRUNCATE, names(truncate.group(1)));
        }
        throw new RewindException("cannot find '" + sql + "' in PostgreSQL's WAL, which keeps what statements did, not their text; "
                + "it can find: DROP TABLE [name], TRUNCATE [name]");
    }

    private static List<String> names(String group) {
        if (group == null) {
            return List.of();
        }
        List<String> names = Arrays.stream(group.split(",")).map(n -> n.strip().replace("\"", "").toLowerCase(Locale.ROOT)).toList();
        if (names.size() == 1 && KEYWORDS.contains(names.get(0))) {
            return List.of();
        }
        return names;
    }

    /** Whether a relation called {@code schema.relation} is one of the names (bare names match any schema). */
    boolean namesRelation(String qualifiedName) {
        String q = qualifiedName.toLowerCase(Locale.ROOT);
        String bare = q.substring(q.lastIndexOf('.') + 1);
        return names.stream().anyMatch(n -> n.equals(q) || n.equals(bare));
    }
}
