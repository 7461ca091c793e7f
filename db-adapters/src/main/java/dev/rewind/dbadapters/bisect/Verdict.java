package dev.rewind.dbadapters.bisect;

/**
 * What a check said at one seq: it holds (good), or it fails (bad) with the reason, e.g. the
 * value the check returned or the SQL error ({@code relation "t" does not exist}).
 */
public record Verdict(boolean isGood, String reason) {

    public static Verdict good() {
        return new Verdict(true, null);
    }

    public static Verdict bad(String reason) {
        return new Verdict(false, reason);
    }
}
