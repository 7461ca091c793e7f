package dev.rewind.volumeset.manager;

import dev.rewind.volumeset.ByteRangeSet;
import dev.rewind.volumeset.CorruptDataException;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.Sizes;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.LvRecord;
import dev.rewind.volumeset.catalog.MemberRecord;
import dev.rewind.volumeset.catalog.PvRecord;
import dev.rewind.volumeset.catalog.SetRecord;
import dev.rewind.volumeset.catalog.VgRecord;
import dev.rewind.volumeset.io.DurableFiles;
import dev.rewind.volumeset.io.FileAccess;
import dev.rewind.volumeset.io.PrivateFiles;
import dev.rewind.volumeset.layout.MemberLayout;
import dev.rewind.volumeset.layout.SetPrimaries;
import dev.rewind.volumeset.pv.Devices;
import dev.rewind.volumeset.pv.PhysicalVolumeLabel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The volume manager: creates PVs, VGs, LVs and production volume sets, and maps a
 * set's members onto their PVs. Every request is validated in full before anything
 * is written; a refused request leaves the catalog and the devices as they were.
 */
public final class VolumeManager {
    public static final long DEFAULT_EXTENT_SIZE_BYTES = 4 * Sizes.MIB;
    public static final long MIN_PV_SIZE_BYTES = PhysicalVolumeLabel.DATA_OFFSET_BYTES + Sizes.MIB;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}");

    private final Catalog catalog;
    private final FileAccess access;

    public VolumeManager(Catalog catalog) {
        this(catalog, FileAccess.OWNER_ONLY);
    }

    /** A manager whose new PV files and secondaries get {@code access} (the data dir's). */
    public VolumeManager(Catalog catalog, FileAccess access) {
        this.catalog = catalog;
        this.access = access;
    }

    public Catalog catalog() {
        return catalog;
    }

    /** Who may read the PV files and secondaries this manager creates. */
    public FileAccess access() {
        return access;
    }

    public static String checkName(String what, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new RewindException(what + " name '" + name + "' is not valid; use up to 64 letters, digits, '_', '.', '+' or '-', not starting with '.', '+' or '-'");
        }
        return name;
    }

    // ---- physical volumes ----

    /**
     * Labels a file or block device as a PV. A missing file is created sparse with
     * {@code sizeBytes}; an existing file smaller than {@code sizeBytes} is extended.
     */
    public PvRecord createPv(String name, Path path, Long sizeBytes) {
        checkName("PV", name);
        Path abs = path.toAbsolutePath().normalize();
        if (catalog.findPv(name).isPresent()) {
            throw new RewindException("PV " + name + " already exists; choose another name");
        }
        catalog.findPvByPath(abs).ifPresent(other -> {
            throw new RewindException(abs + " is already PV " + other.name());
        });
        boolean exists = Files.exists(abs);
        boolean blockDevice = Devices.isBlockDevice(abs);
        if (Files.isDirectory(abs)) {
            throw new RewindException(abs + " is a directory; a PV is a file or a block device");
        }
        if (!exists && sizeBytes == null) {
            throw new RewindException(abs + " does not exist; give --size to create it as a file");
        }
        if (!exists && (abs.getParent() == null || !Files.isDirectory(abs.getParent()))) {
            throw new RewindException("cannot create " + abs + ": directory " + abs.getParent() + " does not exist");
        }
        try {
            long currentSize = 0;
            byte[] savedHead = null;
            if (exists) {
                try (FileChannel c = FileChannel.open(abs, StandardOpenOption.READ)) {
                    currentSize = Devices.sizeBytes(abs, c);
                    PhysicalVolumeLabel label;
                    try {
                        label = PhysicalVolumeLabel.readFrom(c, abs);
                    } catch (CorruptDataException e) {
                        label = null;
                    }
                    if (label != null) {
                        throw new RewindException(abs + " already carries the label of PV '" + label.name() + "' (" + label.uuid()
                                + "); it belongs to another Rewind catalog or was left behind; wipe its first MiB to reuse it");
                    }
                    ByteBuffer head = ByteBuffer.allocate(PhysicalVolumeLabel.LABEL_LENGTH);
                    c.read(head, 0);
                    savedHead = head.array();
                }
            }
            long finalSize = currentSize;
            if (sizeBytes != null) {
                if (blockDevice && sizeBytes > currentSize) {
                    throw new RewindException("--size " + Sizes.format(sizeBytes) + " is larger than block device " + abs + " (" + Sizes.format(currentSize) + ")");
                }
                finalSize = blockDevice ? currentSize : Math.max(currentSize, sizeBytes);
            }
            if (finalSize < MIN_PV_SIZE_BYTES) {
                throw new RewindException("PV " + name + " would be " + Sizes.format(finalSize) + ", too small: a PV needs at least "
                        + Sizes.format(MIN_PV_SIZE_BYTES) + " (1 MiB label area + 1 MiB data)");
            }
            if (abs.getFileSystem().getRootDirectories().iterator().hasNext() && !exists) {
                PrivateFiles.createFile(abs, access);
                DurableFiles.forceDirectory(abs.getParent()); // the label below is forced; so is the new file's name
            }
            PhysicalVolumeLabel label = new PhysicalVolumeLabel(UUID.randomUUID(), name, finalSize, PhysicalVolumeLabel.DATA_OFFSET_BYTES);
            PvRecord record = new PvRecord(name, label.uuid(), abs, finalSize, label.dataOffsetBytes(), null, -1);
            try {
                try (FileChannel c = FileChannel.open(abs, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    if (!blockDevice && c.size() < finalSize) {
                        c.write(ByteBuffer.allocate(1), finalSize - 1);
                    }
                    label.writeTo(c);
                }
                catalog.insertPv(record);
            } catch (IOException | RuntimeException e) {
                // a file we created goes again; an existing one gets its first bytes and its size back
                undoLabel(abs, exists, savedHead, currentSize);
                throw e;
            }
            return record;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot label " + abs + ": " + e.getMessage(), e);
        }
    }

    private static void undoLabel(Path path, boolean existed, byte[] savedHead, long originalSize) throws IOException {
        if (!existed) {
            Files.deleteIfExists(path);
            return;
        }
        try (FileChannel c = FileChannel.open(path, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(savedHead), 0);
            if (Files.isRegularFile(path) && c.size() > originalSize) {
                c.truncate(originalSize);
            }
            c.force(true);
        }
    }

    // ---- volume groups ----

    public VgRecord createVg(String name, List<String> pvNames, Long extentSizeBytes) {
        checkName("VG", name);
        long extent = extentSizeBytes == null ? DEFAULT_EXTENT_SIZE_BYTES : extentSizeBytes;
        if (extent < 64 * Sizes.KIB || extent > Sizes.GIB || Long.bitCount(extent) != 1) {
            throw new RewindException("extent size " + Sizes.format(extent) + " is not allowed; use a power of two from 64K to 1G (default 4M)");
        }
        if (catalog.findVg(name).isPresent()) {
            throw new RewindException("VG " + name + " already exists; choose another name");
        }
        if (pvNames.isEmpty()) {
            throw new RewindException("a VG needs at least one PV; give --pv NAME[,NAME...]");
        }
        Set<String> seen = new HashSet<>();
        for (String pvName : pvNames) {
            if (!seen.add(pvName)) {
                throw new RewindException("PV " + pvName + " is named twice");
            }
            PvRecord pv = catalog.findPv(pvName).orElseThrow(() -> new RewindException("no PV named " + pvName + "; see rewind pv list"));
            if (pv.vgName() != null) {
                throw new RewindException("PV " + pvName + " is already in VG " + pv.vgName());
            }
            catalog.setHolding(null, null, pvName).ifPresent(set -> {
                throw new RewindException("PV " + pvName + " is a whole-PV member of set " + set + " and cannot join a VG");
            });
            if (pv.dataBytes() < extent) {
                throw new RewindException("PV " + pvName + " is too small for " + Sizes.format(extent) + " extents (" + Sizes.format(pv.dataBytes()) + " of data space)");
            }
        }
        VgRecord vg = new VgRecord(name, UUID.randomUUID(), extent);
        catalog.insertVg(vg, pvNames);
        return vg;
    }

    /** Free extents of a VG, per PV, as [start, end) extent ranges. */
    public Map<String, ByteRangeSet> freeExtents(VgRecord vg) {
        Map<String, ByteRangeSet> free = new LinkedHashMap<>();
        for (PvRecord pv : catalog.pvsOfVg(vg.name())) {
            free.put(pv.name(), ByteRangeSet.of(0, pv.dataBytes() / vg.extentSizeBytes()));
        }
        for (LvRecord lv : catalog.lvsOfVg(vg.name())) {
            for (LvRecord.Segment s : lv.segments()) {
                free.get(s.pvName()).remove(s.startExtent(), s.startExtent() + s.extentCount());
            }
        }
        return free;
    }

    /** Allocates a linear LV, first fit over the VG's PVs in order; the size is rounded up to whole extents. */
    public LvRecord createLv(String name, String vgName, long sizeBytes) {
        checkName("LV", name);
        VgRecord vg = catalog.findVg(vgName).orElseThrow(() -> new RewindException("no VG named " + vgName + "; see rewind vg list"));
        if (sizeBytes <= 0) {
            throw new RewindException("LV size must be positive");
        }
        if (catalog.findLv(vgName, name).isPresent()) {
            throw new RewindException("LV " + vgName + "/" + name + " already exists; choose another name");
        }
        long extents = (sizeBytes - 1) / vg.extentSizeBytes() + 1; // rounds up without overflowing near Long.MAX_VALUE
        Map<String, ByteRangeSet> free = freeExtents(vg);
        long freeCount = free.values().stream().mapToLong(ByteRangeSet::totalBytes).sum();
        if (freeCount < extents) {
            throw new RewindException("LV " + name + " needs " + extents + " extents (" + Sizes.format(extents * vg.extentSizeBytes())
                    + ") but VG " + vgName + " has " + freeCount + " free (" + Sizes.format(freeCount * vg.extentSizeBytes()) + ")");
        }
        List<LvRecord.Segment> segments = new ArrayList<>();
        long needed = extents;
        for (Map.Entry<String, ByteRangeSet> e : free.entrySet()) {
            for (ByteRangeSet.Range r : e.getValue()) {
                if (needed == 0) {
                    break;
                }
                long take = Math.min(needed, r.lengthBytes());
                segments.add(new LvRecord.Segment(e.getKey(), r.startBytes(), take));
                needed -= take;
            }
        }
        LvRecord lv = new LvRecord(vgName, name, UUID.randomUUID(), extents * vg.extentSizeBytes(), segments);
        catalog.insertLv(lv);
        return lv;
    }

    // ---- production volume sets ----

    /**
     * Validates a new set without writing anything. Members are {@code VG/LV} or {@code pv:PV};
     * a member is named after its LV or PV.
     */
    public SetRecord planSet(String name, List<String> memberSpecs, Path secondaryDir, long regionSizeBytes) {
        checkName("set", name);
        if (name.contains("/") || name.contains("@")) {
            throw new RewindException("set name '" + name + "' may not contain '/' or '@'");
        }
        if (catalog.findSet(name).isPresent()) {
            throw new RewindException("set " + name + " already exists; choose another name");
        }
        if (memberSpecs.isEmpty()) {
            throw new RewindException("a set needs at least one member; give --member VG/LV or --member pv:PV");
        }
        if (regionSizeBytes < 64 * Sizes.KIB || Long.bitCount(regionSizeBytes) != 1) {
            throw new RewindException("region size " + Sizes.format(regionSizeBytes) + " must be a power of two of at least 64K");
        }
        List<MemberRecord> members = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String spec : memberSpecs) {
            MemberRecord m;
            if (spec.startsWith("pv:")) {
                String pvName = spec.substring(3);
                PvRecord pv = catalog.findPv(pvName).orElseThrow(() -> new RewindException("no PV named " + pvName + "; see rewind pv list"));
                if (pv.vgName() != null) {
                    throw new RewindException("PV " + pvName + " is in VG " + pv.vgName() + "; use its LVs as members instead");
                }
                m = new MemberRecord(members.size(), pvName, MemberRecord.Kind.PV, null, null, pvName, pv.dataBytes());
            } else {
                int slash = spec.indexOf('/');
                if (slash <= 0 || slash == spec.length() - 1) {
                    throw new RewindException("member '" + spec + "' is neither VG/LV nor pv:PV");
                }
                String vgName = spec.substring(0, slash);
                String lvName = spec.substring(slash + 1);
                LvRecord lv = catalog.findLv(vgName, lvName).orElseThrow(() -> new RewindException("no LV " + spec + "; see rewind lv list"));
                m = new MemberRecord(members.size(), lvName, MemberRecord.Kind.LV, vgName, lvName, null, lv.sizeBytes());
            }
            if (!names.add(m.name())) {
                throw new RewindException("set " + name + " would have two members named " + m.name() + "; each member must be named once");
            }
            catalog.setHolding(m.vgName(), m.lvName(), m.pvName()).ifPresent(other -> {
                throw new RewindException(spec + " is already a member of set " + other);
            });
            members.add(m);
        }
        Path secondary = secondaryDir.toAbsolutePath().normalize();
        if (Files.exists(secondary) && !Files.isDirectory(secondary)) {
            throw new RewindException("secondary directory " + secondary + " is not a directory; give an empty or new directory");
        }
        if (Files.exists(secondary)) {
            try (var entries = Files.list(secondary)) {
                if (entries.findAny().isPresent()) {
                    throw new RewindException("secondary directory " + secondary + " is not empty; give an empty or new directory");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new SetRecord(name, UUID.randomUUID(), secondary, regionSizeBytes, members);
    }

    public SetRecord findSet(String name) {
        return catalog.findSet(name).orElseThrow(() -> new RewindException("no set named " + name + "; see rewind status"));
    }

    /** Where each member's bytes live. */
    public List<MemberLayout> layoutOf(SetRecord set) {
        List<MemberLayout> layouts = new ArrayList<>();
        Map<String, VgRecord> vgs = new HashMap<>();
        for (MemberRecord m : set.members()) {
            List<MemberLayout.Run> runs = new ArrayList<>();
            if (m.kind() == MemberRecord.Kind.PV) {
                PvRecord pv = catalog.findPv(m.pvName()).orElseThrow();
                runs.add(new MemberLayout.Run(0, m.sizeBytes(), pv.name(), pv.dataOffsetBytes()));
            } else {
                VgRecord vg = vgs.computeIfAbsent(m.vgName(), n -> catalog.findVg(n).orElseThrow());
                LvRecord lv = catalog.findLv(m.vgName(), m.lvName()).orElseThrow();
                long memberOffset = 0;
                for (LvRecord.Segment s : lv.segments()) {
                    PvRecord pv = catalog.findPv(s.pvName()).orElseThrow();
                    long len = s.extentCount() * vg.extentSizeBytes();
                    runs.add(new MemberLayout.Run(memberOffset, len, pv.name(), pv.dataOffsetBytes() + s.startExtent() * vg.extentSizeBytes()));
                    memberOffset += len;
                }
            }
            layouts.add(new MemberLayout(m.index(), m.name(), m.sizeBytes(), runs));
        }
        return layouts;
    }

    /** Opens the primaries of a set, checking every PV label. */
    public SetPrimaries openPrimaries(SetRecord set) throws IOException {
        Map<String, PvRecord> pvs = new HashMap<>();
        for (PvRecord pv : catalog.listPvs()) {
            pvs.put(pv.name(), pv);
        }
        return SetPrimaries.open(layoutOf(set), pvs);
    }
}
