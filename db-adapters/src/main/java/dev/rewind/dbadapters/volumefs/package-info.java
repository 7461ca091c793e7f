/**
 * A file system on a captured set's members, for embedded H2: an H2 file system ({@code rewind:}) that stores each
 * database file on a {@link dev.rewind.capture.BlockDevice}, so every byte H2 writes is
 * captured, journaled and restorable to any single write.
 *
 * <p>Owns: the on-device file format ({@code DeviceFileHeader},
 * block 0 of the device, then the content), the one-file-per-device model
 * ({@code DeviceFile}), the FileChannel H2 uses ({@code DeviceFileChannel}), the mount
 * registry and H2 scheme ({@link dev.rewind.dbadapters.volumefs.VolumeFileSystem}), and the
 * convenience of opening H2 on a set's member ({@link dev.rewind.dbadapters.volumefs.H2OnSet}).
 * Public: {@code VolumeFileSystem} and {@code H2OnSet}; the rest is package-private.
 */
package dev.rewind.dbadapters.volumefs;
