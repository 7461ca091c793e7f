/**
 * The NBD server: serves every member of a captured set as an NBD export (fixed-newstyle
 * handshake, spec {@code doc/proto.md} of the NetworkBlockDevice/nbd project), and any point
 * in the past of a member as a read-only export.
 *
 * <p>The data flow reads left to right: {@link dev.rewind.capture.nbd.NbdServer} accepts a
 * connection; its reader thread feeds the bytes to an {@code NbdDecoder}, which checks every
 * limit and turns them into {@code NbdMessage} records; the connection acts on the records
 * (options in the reader thread, commands on a bounded worker pool) against an
 * {@link dev.rewind.capture.nbd.NbdExport}; workers queue each outcome as an {@code NbdReply} in
 * the connection's {@code NbdReplyQueue}, whose writer thread alone turns it into bytes through an
 * {@code NbdReplyWriter}, so no shared worker ever waits on a client's socket. {@link dev.rewind.capture.nbd.CapturedSetExports} resolves export names
 * ({@code <set>/<member>}, {@code <set>/<member>@<seq>}, {@code @bookmark:NAME}, {@code @time:ISO-8601})
 * to exports over {@link dev.rewind.capture.CapturedSet}. Nothing the client sends reaches an
 * export before the decoder has accepted it.
 */
package dev.rewind.capture.nbd;
