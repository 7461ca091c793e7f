package dev.rewind.dbadapters.bisect;

/**
 * What a check said at one seq: it holds (good) or it fails (bad), with what it returned or,
 * when it failed, why (the SQL error, e.g. {@code relation "t" does not exist}).
 */
public record Verdict(boolean isGood, String detail) {

    public static Verdict good(String detail) {
        return new Verdict(true, detail);
    }

    public static Verdict bad(String detail) {
        return new Verdict(false, detail);
    }
}
