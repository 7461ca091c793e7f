/**
 * The one NBD client of the tests ({@link dev.rewind.testfixtures.nbd.NbdTestClient}) and the
 * bytes it sends ({@link dev.rewind.testfixtures.nbd.NbdWire}), both from the production
 * constants of {@link dev.rewind.capture.nbd.NbdProtocol}.
 */
package dev.rewind.testfixtures.nbd;
