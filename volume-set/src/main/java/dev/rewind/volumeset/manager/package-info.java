/**
 * The volume manager: the entry point that creates PVs, VGs, LVs and production volume sets
 * in the catalog and on the devices, and maps a set's members onto their PVs. It sits on
 * {@code catalog}, {@code pv} and {@code layout}; none of them depends on it.
 */
package dev.rewind.volumeset.manager;
