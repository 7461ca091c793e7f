/** File I/O helpers shared by every module: durable creation of files and directory entries. */
package dev.rewind.volumeset.io;
