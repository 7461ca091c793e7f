/**
 * A private copy of a set's database on a sandbox: the sandbox's exports mounted as the
 * member file systems they hold ({@link dev.rewind.dbadapters.sandbox.ExportMounts}), every
 * production path mapped to the same place under those mounts ({@link dev.rewind.dbadapters.sandbox.MountMap}),
 * and the engine's server started there on its own port with nothing pointing back at
 * production ({@link dev.rewind.dbadapters.sandbox.PostgresSandboxServer},
 * {@link dev.rewind.dbadapters.sandbox.MariaDbSandboxServer}). Needs root (loop devices, mount).
 */
package dev.rewind.dbadapters.sandbox;
