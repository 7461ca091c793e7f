package dev.rewind.dbadapters.postgresql;

import dev.rewind.volumeset.RewindException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The statement {@code db find} looks for in PostgreSQL's WAL, read from the text the DBA
 * gave: a {@code DROP TABLE}, a {@code TRUNCATE}, an {@code UPDATE} or a {@code DELETE}, with
 * the table names if any (lower-cased, quotes removed). WAL keeps what a statement did, not
 * its text, so these are all it can recognise; what follows an UPDATE's or DELETE's table
 * ({@code SET ...}, {@code WHERE ...}) may be pasted with it and is not compared: the WAL
 * says which rows changed, not why. {@link Kind#ANY} is no statement the DBA writes: it is
 * what a search by transaction id alone looks for.
 */
record StatementPattern(Kind kind, List<String> names) {
    enum Kind {
        DROP_TABLE, TRUNCATE, UPDATE, DELETE, ANY;

        /** Whether statements of this kind are found by the rows they changed (Heap UPDATE and DELETE records). */
        boolean changesRows() {
            return this == UPDATE || this == DELETE || this == ANY;
        }
    }

    /** Every statement a transaction made that the WAL shows. */
    static final StatementPattern ANY = new StatementPattern(Kind.ANY, List.of());

    private static final String NAME = "[\\w$\".]+";
    private static final String NAMES = "(" + NAME + "(?:\\s*,\\s*" + NAME + ")*)";
    private static final Pattern DROP_TABLE = Pattern.compile(
            "DROP\\s+TABLE(?:\\s+IF\\s+EXISTS)?(?:\\s+" + NAMES + ")?(?:\\s+(?:CASCADE|RESTRICT))?", Pattern.CASE_INSENSITIVE);
    private static final Pattern TRUNCATE = Pattern.compile(
            "TRUNCATE(?:\\s+TABLE)?(?:\\s+ONLY)?(?:\\s+" + NAMES + ")?(?:\\s+(?:RESTART|CONTINUE)\\s+IDENTITY)?(?:\\s+(?:CASCADE|RESTRICT))?",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern UPDATE = Pattern.compile(
            "UPDATE(?:\\s+ONLY)?(?:\\s+(" + NAME + ")(?:\\s*\\*)?(?:\\s+(?:AS\\s+)?(?!SET\\b)\\w+)?)?(?:\\s+SET\\b.*)?",
            Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final Pattern DELETE = Pattern.compile(
            "DELETE(?:\\s+FROM)?(?:\\s+ONLY)?(?:\\s+(" + NAME + ")(?:\\s*\\*)?(?:\\s+(?:AS\\s+)?(?!(?:WHERE|USING|RETURNING)\\b)\\w+)?)?"
                    + "(?:\\s+(?:WHERE|USING|RETURNING)\\b.*)?",
            Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final List<String> KEYWORDS = List.of("cascade", "restrict", "only", "table", "if", "from", "set", "where", "using",
            "returning");

    StatementPattern {
        names = List.copyOf(names);
    }

    /** Reads {@code sql}; a RewindException listing what can be found when it is none of them. */
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
        Matcher update = UPDATE.matcher(text);
        if (update.matches()) {
            return new StatementPattern(Kind.UPDATE, names(update.group(1)));
        }
        Matcher delete = DELETE.matcher(text);
        if (delete.matches()) {
            return new StatementPattern(Kind.DELETE, names(delete.group(1)));
        }
        throw new RewindException("cannot find '" + sql + "' in PostgreSQL's WAL, which keeps what statements did, not their text; "
                + "it can find: DROP TABLE [name], TRUNCATE [name], UPDATE [name], DELETE FROM [name]");
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
