package dev.rewind.capture.nbd;

import dev.rewind.capture.BlockDevice;
import dev.rewind.capture.BookmarkLookup;
import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.PointResolver;
import dev.rewind.capture.sandbox.Sandbox;
import dev.rewind.capture.sandbox.Sandboxes;
import dev.rewind.volumeset.catalog.SandboxRecord;
import java.io.IOException;
import dev.rewind.volumeset.RewindException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The exports of captured sets, by name:
 * <ul>
 * <li>{@code <set>/<member>}: the member itself, writable; every write is captured.</li>
 * <li>{@code <set>/<member>@<seq>}, {@code @bookmark:<NAME>}, {@code @time:<ISO-8601 instant>}:
 *     the member as it was at that seq, read-only, read through the journal without copying
 *     the volume. The seq is resolved once, when the export is opened, by {@link PointResolver}.</li>
 * <li>{@code <set>/<member>@sandbox:<NAME>}: the member in sandbox NAME, writable; its writes
 *     stay in the sandbox ({@link Sandboxes}).</li>
 * </ul>
 * The map is read on every lookup, so sets added to it later are served too.
 *
 * <p>While a set has a restore in place running or interrupted, its members are not exported
 * as they are now (neither listed nor opened, read-only included): they hold a mix of the target
 * and what came after it, which no database should see, even read-only. The past stays
 * served: it is exact whatever the present holds.
 */
public final class CapturedSetExports implements NbdExports {
    private final Map<String, CapturedSet> sets;
    private final BookmarkLookup bookmarks;
    private final Sandboxes sandboxes;

    public CapturedSetExports(Map<String, CapturedSet> sets, BookmarkLookup bookmarks) {
        this(sets, bookmarks, null);
    }

    /** With {@code sandboxes} (or null for none), {@code <set>/<member>@sandbox:<NAME>} is served too. */
    public CapturedSetExports(Map<String, CapturedSet> sets, BookmarkLookup bookmarks, Sandboxes sandboxes) {
        this.sets = sets;
        this.bookmarks = bookmarks;
        this.sandboxes = sandboxes;
    }

    @Override
    public Optional<NbdExport> open(String exportName) throws IOException {
        int slash = exportName.indexOf('/');
        if (slash <= 0) {
            return Optional.empty();
        }
        String setName = exportName.substring(0, slash);
        CapturedSet set = sets.get(setName);
        if (set == null) {
            return Optional.empty();
        }
        String rest = exportName.substring(slash + 1);
        int at = rest.indexOf('@');
        String member = at < 0 ? rest : rest.substring(0, at);
        BlockDevice device = set.devices().stream().filter(d -> d.name().equals(member)).findFirst().orElse(null);
        if (device == null) {
            return Optional.empty();
        }
        if (at < 0) {
            if (set.isRestoreUnfinished()) {
                throw new RewindException("set " + set.name() + " has a restore in place that is running or was interrupted; its"
                        + " members are not served until it finishes ('rewind status " + set.name() + "' says which; past exports"
                        + " such as " + exportName + "@<seq> are served)");
            }
            return Optional.of(new MemberExport(exportName, set.name(), device, memberDescription(set, device)));
        }
        String point = rest.substring(at + 1);
        if (point.startsWith(Sandbox.EXPORT_MARK)) {
            if (sandboxes == null) {
                return Optional.empty();
            }
            Sandbox sandbox = sandboxes.open(set, point.substring(Sandbox.EXPORT_MARK.length()));
            SandboxRecord r = sandbox.record();
            return Optional.of(new MemberExport(exportName, Sandbox.clientKey(r.setName(), r.name()), sandbox.member(member),
                    sandboxDescription(member, r)));
        }
        long seq = new PointResolver(set, bookmarks).point(point, "export '" + exportName + "'");
        return Optional.of(new PointInTimeExport(exportName, set.pastView(seq), set.name(), set.memberIndex(member), device.name(),
                device.sizeBytes()));
    }

    @Override
    public List<String> names() {
        return list().stream().map(Listing::name).toList();
    }

    /**
     * Each set's members (unless a restore in place is unfinished), then each member at each of
     * the set's bookmarks ({@code <set>/<member>@bookmark:NAME}, with its seq, when it was taken
     * and whether it is consistent), then the sandboxes.
     */
    @Override
    public List<Listing> list() {
        List<Listing> listings = new ArrayList<>();
        for (CapturedSet set : sets.values().stream().sorted(Comparator.comparing(CapturedSet::name)).toList()) {
            if (!set.isRestoreUnfinished()) {
                for (BlockDevice d : set.devices()) {
                    listings.add(new Listing(set.name() + "/" + d.name(), memberDescription(set, d)));
                }
            }
            for (BookmarkLookup.Bookmark b : bookmarks.list(set.name())) {
                for (BlockDevice d : set.devices()) {
                    listings.add(new Listing(set.name() + "/" + d.name() + "@" + PointResolver.BOOKMARK + b.name(),
                            "member " + d.name() + " of set " + set.name() + " at bookmark " + b.name() + ": seq " + b.seq()
                                    + ", created " + b.createdAt() + ", " + (b.consistent() ? "consistent" : "not consistent")
                                    + ", read-only"));
                }
            }
        }
        if (sandboxes != null) {
            for (SandboxRecord s : sandboxes.list(null)) {
                CapturedSet set = sets.get(s.setName());
                for (BlockDevice d : set == null ? List.<BlockDevice>of() : set.devices()) {
                    listings.add(new Listing(s.setName() + "/" + d.name() + "@" + Sandbox.EXPORT_MARK + s.name(),
                            sandboxDescription(d.name(), s)));
                }
            }
        }
        return listings;
    }

    private static String memberDescription(CapturedSet set, BlockDevice d) {
        return "member " + d.name() + " of set " + set.name() + ", every write captured";
    }

    private static String sandboxDescription(String member, SandboxRecord r) {
        return "member " + member + " of set " + r.setName() + " as it was at seq " + r.seq() + ", in sandbox " + r.name()
                + ": writable, writes kept apart from the set";
    }
}
