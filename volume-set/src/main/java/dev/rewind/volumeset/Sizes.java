package dev.rewind.volumeset;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte sizes as people write them: {@code 512}, {@code 64K}, {@code 4M}, {@code 2G}, {@code 1T},
 * {@code 1P} (powers of 1024), with a decimal fraction when it comes to whole bytes
 * ({@code 1.5G}, {@code 0.5K}; not {@code 1.3K}).
 */
public final class Sizes {
    private static final Pattern SIZE = Pattern.compile("(\\d+)(?:\\.(\\d+))?\\s*([KMGTP]?)(?:I?B)?", Pattern.CASE_INSENSITIVE);
    private static final BigInteger MAX = BigInteger.valueOf(Long.MAX_VALUE);
    public static final long KIB = 1024L;
    public static final long MIB = KIB * 1024;
    public static final long GIB = MIB * 1024;

    private Sizes() {
    }

    public static long parse(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new MalformedValueException("'" + text + "' is not a size; write a number with an optional K, M, G or T suffix, e.g. 64M or 1.5G");
        }
        int shift = switch (m.group(3).toUpperCase(Locale.ROOT)) {
            case "" -> 0;
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> 50;
        };
        String number = m.group(2) == null ? m.group(1) : m.group(1) + "." + m.group(2);
        if (number.length() > 40) {
            throw new MalformedValueException("size '" + text + "' is too large");
        }
        BigDecimal bytes = new BigDecimal(number).multiply(new BigDecimal(BigInteger.ONE.shiftLeft(shift)));
        BigInteger whole;
        try {
            whole = bytes.toBigIntegerExact();
        } catch (ArithmeticException e) {
            throw new MalformedValueException("size '" + text + "' is not a whole number of bytes (" + bytes.stripTrailingZeros().toPlainString()
                    + "); write e.g. 1.5G or the size in K");
        }
        if (whole.compareTo(MAX) > 0) {
            throw new MalformedValueException("size '" + text + "' is too large");
        }
        return whole.longValueExact();
    }

    public static String format(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        int unit = 0;
        double value = bytes;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        if (unit == 0) {
            return bytes + " B";
        }
        return value == Math.rint(value)
                ? String.format(Locale.ROOT, "%d %s", (long) value, units[unit])
                : String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
