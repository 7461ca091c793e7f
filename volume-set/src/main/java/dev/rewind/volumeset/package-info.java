/**
 * The bottom of Rewind: physical volumes with labels, volume groups cut into extents,
 * logical volumes, production volume sets, and the catalog that records them.
 * {@link dev.rewind.volumeset.VolumeManager} is the entry point; nothing here knows
 * about journals or capture.
 */
package dev.rewind.volumeset;
