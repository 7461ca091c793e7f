/**
 * The bottom of Rewind: physical volumes with labels ({@code pv}), volume groups cut into
 * extents and logical volumes mapped onto them ({@code layout}), production volume sets,
 * and the catalog that records them ({@code catalog}); {@code manager} holds the
 * {@link dev.rewind.volumeset.manager.VolumeManager}, the entry point. This package itself
 * holds only the small types every package and module shares (sizes, times, byte ranges,
 * the user-error and corruption exceptions), so it depends on none of its subpackages.
 * Nothing here knows about journals or capture.
 */
package dev.rewind.volumeset;
