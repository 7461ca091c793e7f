package dev.rewind.volumeset.layout;

import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.PvRecord;
import dev.rewind.volumeset.io.StableFileChannel;
import dev.rewind.volumeset.pv.Devices;
import dev.rewind.volumeset.pv.PhysicalVolumeLabel;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The opened primaries of a set's members. Opening checks every PV's label against
 * the catalog, so a swapped or wiped device is refused before anything is written.
 */
public final class SetPrimaries implements AutoCloseable {
    private final Map<String, FileChannel> channelsByPv;
    private final List<PrimaryMember> members;

    private SetPrimaries(Map<String, FileChannel> channelsByPv, List<PrimaryMember> members) {
        this.channelsByPv = channelsByPv;
        this.members = List.copyOf(members);
    }

    public static SetPrimaries open(List<MemberLayout> layouts, Map<String, PvRecord> pvs) throws IOException {
        Map<String, FileChannel> channels = new LinkedHashMap<>();
        try {
            List<PrimaryMember> members = new ArrayList<>();
            for (MemberLayout layout : layouts) {
                FileChannel[] perRun = new FileChannel[layout.runs().size()];
                for (int i = 0; i < perRun.length; i++) {
                    String pvName = layout.runs().get(i).pvName();
                    FileChannel c = channels.get(pvName);
                    if (c == null) {
                        c = openChecked(pvs.get(pvName));
                        channels.put(pvName, c);
                    }
                    perRun[i] = c;
                }
                members.add(new PrimaryMember(layout, perRun));
            }
            return new SetPrimaries(channels, members);
        } catch (IOException | RuntimeException e) {
            for (FileChannel c : channels.values()) {
                c.close();
            }
            throw e;
        }
    }

    /** Opens a PV for read and write after checking that its label is the one the catalog recorded. */
    public static FileChannel openChecked(PvRecord pv) throws IOException {
        FileChannel c;
        try {
            c = StableFileChannel.open(pv.path(), StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            throw new RewindException("PV " + pv.name() + ": " + pv.path() + " does not exist; put the device back at that path");
        }
        try {
            PhysicalVolumeLabel label = PhysicalVolumeLabel.readFrom(c, pv.path());
            if (label == null) {
                throw new RewindException("PV " + pv.name() + ": " + pv.path() + " carries no Rewind label (wiped or replaced?); "
                        + "put the right device back at that path");
            }
            if (!label.uuid().equals(pv.uuid())) {
                throw new RewindException("PV " + pv.name() + ": " + pv.path() + " is labelled as PV '" + label.name() + "' ("
                        + label.uuid() + "), not " + pv.uuid() + "; the device was swapped, put the right one back");
            }
            long size = Devices.sizeBytes(pv.path(), c);
            if (size < pv.sizeBytes()) {
                throw new RewindException("PV " + pv.name() + ": " + pv.path() + " is " + size + " bytes, smaller than the "
                        + pv.sizeBytes() + " it had when labelled; refusing to use a truncated device");
            }
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    public List<PrimaryMember> members() {
        return members;
    }

    public PrimaryMember member(int index) {
        return members.get(index);
    }

    public void force() throws IOException {
        for (FileChannel c : channelsByPv.values()) {
            c.force(false);
        }
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (FileChannel c : channelsByPv.values()) {
            try {
                c.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
