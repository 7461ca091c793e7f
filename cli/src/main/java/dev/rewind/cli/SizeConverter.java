package dev.rewind.cli;

import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Sizes;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A {@code SIZE} option ({@code 64M}, {@code 1.5G}, ...): read by {@link Sizes#parse} while the
 * command line is parsed, so a malformed size is bad usage (exit 2) and the command never runs.
 */
final class SizeConverter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        try {
            return Sizes.parse(value);
        } catch (RewindException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
