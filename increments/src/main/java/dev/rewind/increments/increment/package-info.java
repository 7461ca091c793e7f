/**
 * Increments: the forward and backward increment of a transaction, stored on the secondary
 * as one file each. {@link dev.rewind.increments.increment.IncrementFile} owns the file format
 * (header, chunks compressed one by one with an
 * {@link dev.rewind.increments.increment.IncrementCodec}, index, footer, CRC32C everywhere),
 * its writer and its reader; the rest of the package is package-private machinery it uses.
 */
package dev.rewind.increments.increment;
