package dev.rewind.volumeset;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A set of half-open byte ranges {@code [start, end)}, kept merged and sorted.
 * Not thread-safe.
 */
public final class ByteRangeSet implements Iterable<ByteRangeSet.Range> {

    /** A half-open range {@code [startBytes, endBytes)}. */
    public record Range(long startBytes, long endBytes) {
        public Range {
            if (endBytes < startBytes) {
                throw new IllegalArgumentException("range end " + endBytes + " before start " + startBytes);
            }
        }

        public long lengthBytes() {
            return endBytes - startBytes;
        }
    }

    private final TreeMap<Long, Long> ranges = new TreeMap<>();

    public ByteRangeSet() {
    }

    public static ByteRangeSet of(long startBytes, long endBytes) {
        ByteRangeSet set = new ByteRangeSet();
        set.add(startBytes, endBytes);
        return set;
    }

    public ByteRangeSet copy() {
        ByteRangeSet copy = new ByteRangeSet();
        copy.ranges.putAll(ranges);
        return copy;
    }

    public boolean isEmpty() {
        return ranges.isEmpty();
    }

    public int rangeCount() {
        return ranges.size();
    }

    public long totalBytes() {
        long total = 0;
        for (Map.Entry<Long, Long> e : ranges.entrySet()) {
            total += e.getValue() - e.getKey();
        }
        return total;
    }

    /** Adds {@code [start, end)}, merging with touching or overlapping ranges. */
    public void add(long startBytes, long endBytes) {
        if (endBytes <= startBytes) {
            return;
        }
        long start = startBytes;
        long end = endBytes;
        Map.Entry<Long, Long> before = ranges.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
        }
        Map.Entry<Long, Long> next = ranges.ceilingEntry(start);
        while (next != null && next.getKey() <= end) {
            end = Math.max(end, next.getValue());
            ranges.remove(next.getKey());
            next = ranges.ceilingEntry(start);
        }
        ranges.put(start, end);
    }

    public void addAll(ByteRangeSet other) {
        for (Map.Entry<Long, Long> e : other.ranges.entrySet()) {
            add(e.getKey(), e.getValue());
        }
    }

    /** Removes {@code [start, end)}. */
    public void remove(long startBytes, long endBytes) {
        if (endBytes <= startBytes) {
            return;
        }
        Map.Entry<Long, Long> before = ranges.lowerEntry(startBytes);
        if (before != null && before.getValue() > startBytes) {
            ranges.put(before.getKey(), startBytes);
            if (before.getValue() > endBytes) {
                ranges.put(endBytes, before.getValue());
                return;
            }
        }
        Map.Entry<Long, Long> e = ranges.ceilingEntry(startBytes);
        while (e != null && e.getKey() < endBytes) {
            ranges.remove(e.getKey());
            if (e.getValue() > endBytes) {
                ranges.put(endBytes, e.getValue());
                break;
            }
            e = ranges.ceilingEntry(startBytes);
        }
    }

    /** Whether any byte of {@code [start, end)} is in the set. */
    public boolean intersects(long startBytes, long endBytes) {
        if (endBytes <= startBytes) {
            return false;
        }
        Map.Entry<Long, Long> before = ranges.lowerEntry(endBytes);
        return before != null && before.getValue() > startBytes;
    }

    /** The parts of {@code [start, end)} that are in the set, in order. */
    public List<Range> intersection(long startBytes, long endBytes) {
        List<Range> out = new ArrayList<>();
        if (endBytes <= startBytes) {
            return out;
        }
        Map.Entry<Long, Long> first = ranges.lowerEntry(startBytes);
        Long from = first != null && first.getValue() > startBytes ? first.getKey() : startBytes;
        for (Map.Entry<Long, Long> e : ranges.subMap(from, true, endBytes, false).entrySet()) {
            long s = Math.max(e.getKey(), startBytes);
            long t = Math.min(e.getValue(), endBytes);
            if (t > s) {
                out.add(new Range(s, t));
            }
        }
        return out;
    }

    @Override
    public Iterator<Range> iterator() {
        Iterator<Map.Entry<Long, Long>> it = ranges.entrySet().iterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Range next() {
                Map.Entry<Long, Long> e = it.next();
                return new Range(e.getKey(), e.getValue());
            }
        };
    }

    @Override
    public String toString() {
        return ranges.toString();
    }
}
