/**
 * File I/O helpers shared by every module: durable creation of files and directory entries,
 * and the channel every set file is read and written through, which thread interrupts cannot close.
 */
package dev.rewind.volumeset.io;
