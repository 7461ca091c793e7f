package dev.rewind.capture.nbd;

import static dev.rewind.capture.nbd.NbdProtocol.*;

import dev.rewind.capture.nbd.NbdMessage.AbortOption;
import dev.rewind.capture.nbd.NbdMessage.ClientFlags;
import dev.rewind.capture.nbd.NbdMessage.ExportNameOption;
import dev.rewind.capture.nbd.NbdMessage.HardDisconnect;
import dev.rewind.capture.nbd.NbdMessage.InfoOption;
import dev.rewind.capture.nbd.NbdMessage.ListOption;
import dev.rewind.capture.nbd.NbdMessage.MetaContextOption;
import dev.rewind.capture.nbd.NbdMessage.RefusedOption;
import dev.rewind.capture.nbd.NbdMessage.StartTlsOption;
import dev.rewind.capture.nbd.NbdMessage.StructuredReplyOption;
import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Option haggling with one client, from its flags to NBD_OPT_EXPORT_NAME or a successful
 * NBD_OPT_GO: answers LIST, INFO, STRUCTURED_REPLY, LIST/SET_META_CONTEXT and ABORT, refuses
 * the rest as the decoder classified them, and settles the transmission flags.
 * Runs in the connection's reader thread; options come one at a time.
 *
 * <p>TLS (spec "TLS support"), by the connection's {@link NbdTls.Mode}: OFF answers
 * NBD_OPT_STARTTLS with NBD_REP_ERR_UNSUP (NOTLS mode). ON and REQUIRE acknowledge it and
 * run the handshake at once ({@link TlsUpgrade}); everything after goes through TLS, and the
 * option state agreed before (structured replies, meta contexts) is forgotten, since a man in
 * the middle could have chosen it. REQUIRE (FORCEDTLS) answers every other option before TLS
 * with NBD_REP_ERR_TLS_REQD, except NBD_OPT_ABORT, and ends the session at an
 * NBD_OPT_EXPORT_NAME, which cannot be refused, and at a client without fixed newstyle, with
 * which TLS cannot be negotiated. A second STARTTLS, or one with data, is NBD_REP_ERR_INVALID.
 */
final class NbdNegotiation {
    private static final Logger LOG = LoggerFactory.getLogger(NbdNegotiation.class);

    /** Where the decoded client messages come from; null once the client has gone. */
    interface Messages {
        NbdMessage next() throws IOException, InterruptedException;
    }

    /** Runs the TLS handshake right after NBD_OPT_STARTTLS was acknowledged; throws when it fails (the session ends). */
    interface TlsUpgrade {
        void start() throws IOException;
    }

    /**
     * What client and server agreed on: the export, by the name the client used, and how
     * transmission goes ({@code blockStatus}: base:allocation was selected for this export).
     */
    record Agreement(NbdExport export, String exportName, boolean structuredReplies, boolean blockStatus) {
    }

    private final String connection;
    private NbdExports exports;
    private final NbdReplyWriter replies;
    private final BooleanSupplier serverClosing;
    private final NbdTls.Mode tlsMode;
    private final TlsUpgrade tlsUpgrade;

    private boolean tlsRunning;
    private boolean noZeroes;
    private boolean structuredReplies;
    private String metaContextExportName;

    NbdNegotiation(String connection, NbdExports exports, NbdReplyWriter replies, BooleanSupplier serverClosing) {
        this(connection, exports, replies, serverClosing, NbdTls.Mode.OFF, () -> {
            throw new IllegalStateException("no TLS on this connection");
        });
    }

    NbdNegotiation(String connection, NbdExports exports, NbdReplyWriter replies, BooleanSupplier serverClosing,
                   NbdTls.Mode tlsMode, TlsUpgrade tlsUpgrade) {
        this.connection = connection;
        this.exports = exports;
        this.replies = replies;
        this.serverClosing = serverClosing;
        this.tlsMode = tlsMode;
        this.tlsUpgrade = tlsUpgrade;
    }

    /** From now on, offers {@code exports} (a client whose certificate TLS checked may write). */
    void serve(NbdExports exports) {
        this.exports = exports;
    }

    /**
     * Haggles until the client has chosen an export or left. {@code onAgreement} runs before
     * the final reply goes out, so that the connection is in transmission by the time the
     * client knows it; empty means the session ends.
     */
    Optional<Agreement> run(Messages messages, Consumer<Agreement> onAgreement) throws IOException, InterruptedException {
        for (;;) {
            NbdMessage message = messages.next();
            if (message == null) {
                return Optional.empty();
            }
            if (message instanceof HardDisconnect d) {
                LOG.info("nbd {}: {}; disconnecting", connection, d.reason());
                return Optional.empty();
            }
            if (message instanceof ClientFlags f) {
                noZeroes = f.noZeroes();
                if (tlsMode == NbdTls.Mode.REQUIRE && !f.fixedNewstyle()) {
                    LOG.info("nbd {}: TLS is required and the client does not speak fixed newstyle, which TLS needs; disconnecting",
                            connection);
                    return Optional.empty();
                }
                continue;
            }
            if (message instanceof MetaContextOption o && o.set()
                    || message instanceof RefusedOption r && r.option() == OPT_SET_META_CONTEXT) {
                metaContextExportName = null; // every NBD_OPT_SET_META_CONTEXT replaces the selection, even one that fails
            }
            if (serverClosing.getAsBoolean() && !(message instanceof AbortOption)) {
                if (message instanceof ExportNameOption) {
                    LOG.info("nbd {}: NBD_OPT_EXPORT_NAME while the server shuts down; disconnecting", connection);
                    return Optional.empty();
                }
                replies.optionError(optionOf(message), REP_ERR_SHUTDOWN, "the server is shutting down");
                continue;
            }
            if (tlsMode == NbdTls.Mode.REQUIRE && !tlsRunning && !(message instanceof StartTlsOption) && !(message instanceof AbortOption)
                    && !(message instanceof RefusedOption refused && refused.option() == OPT_STARTTLS)) {
                if (message instanceof ExportNameOption) {
                    LOG.info("nbd {}: NBD_OPT_EXPORT_NAME before NBD_OPT_STARTTLS while TLS is required; disconnecting", connection);
                    return Optional.empty();
                }
                replies.optionError(optionOf(message), REP_ERR_TLS_REQD, "this server requires TLS: send NBD_OPT_STARTTLS first");
                continue;
            }
            if (message instanceof StartTlsOption) {
                startTls();
                continue;
            }
            if (message instanceof ExportNameOption o) {
                Opened opened = open(o.exportName());
                if (opened.export == null) {
                    LOG.info("nbd {}: NBD_OPT_EXPORT_NAME '{}': {}; disconnecting", connection, o.exportName(), opened.refusal);
                    return Optional.empty();
                }
                Agreement agreement = agree(opened.export, o.exportName());
                onAgreement.accept(agreement);
                replies.exportNameReply(opened.export.sizeBytes(), transmissionFlags(opened.export), noZeroes);
                return Optional.of(agreement);
            } else if (message instanceof InfoOption o) {
                Optional<Agreement> agreement = answerInfo(o, onAgreement);
                if (agreement.isPresent()) {
                    return agreement;
                }
            } else if (message instanceof ListOption) {
                for (NbdExports.Listing listing : exports.list()) {
                    // NBD_REP_SERVER: the name's length, the name, then the description (spec: optional, free text)
                    byte[] name = NbdReplyWriter.utf8Truncated(listing.name());
                    byte[] description = NbdReplyWriter.utf8Truncated(listing.description());
                    replies.optionReply(OPT_LIST, REP_SERVER, ByteBuffer.allocate(4 + name.length + description.length)
                            .putInt(name.length).put(name).put(description).flip());
                }
                replies.optionReply(OPT_LIST, REP_ACK, null);
            } else if (message instanceof AbortOption) {
                replies.optionReply(OPT_ABORT, REP_ACK, null);
                return Optional.empty();
            } else if (message instanceof StructuredReplyOption) {
                structuredReplies = true;
                replies.optionReply(OPT_STRUCTURED_REPLY, REP_ACK, null);
            } else if (message instanceof MetaContextOption o) {
                answerMetaContext(o);
            } else if (message instanceof RefusedOption r) {
                LOG.debug("nbd {}: {}", connection, r.message());
                replies.optionError(r.option(), r.replyType(), r.message());
            } else {
                throw new IllegalStateException("unexpected message during option haggling: " + message);
            }
        }
    }

    /** NBD_OPT_STARTTLS: acknowledged and upgraded, or refused as the mode and state say. */
    private void startTls() throws IOException {
        if (tlsMode == NbdTls.Mode.OFF) {
            replies.optionError(OPT_STARTTLS, REP_ERR_UNSUP, "TLS is not offered on this socket (rewind serve --tls on|require, "
                    + "on a TCP listener)");
            return;
        }
        if (tlsRunning) {
            replies.optionError(OPT_STARTTLS, REP_ERR_INVALID, "TLS is already running on this connection");
            return;
        }
        replies.optionReply(OPT_STARTTLS, REP_ACK, null);
        tlsUpgrade.start();
        tlsRunning = true;
        structuredReplies = false;
        metaContextExportName = null;
    }

    /** NBD_OPT_INFO / NBD_OPT_GO; an agreement when GO succeeded. */
    private Optional<Agreement> answerInfo(InfoOption o, Consumer<Agreement> onAgreement) throws IOException {
        int option = o.option();
        Opened opened = open(o.exportName());
        if (opened.export == null) {
            replies.optionError(option, REP_ERR_UNKNOWN, opened.refusal);
            return Optional.empty();
        }
        NbdExport e = opened.export;
        replies.optionReply(option, REP_INFO, ByteBuffer.allocate(12).putShort((short) INFO_EXPORT).putLong(e.sizeBytes())
                .putShort((short) transmissionFlags(e)).flip());
        if (o.infoRequests().contains(INFO_NAME)) {
            replies.optionReply(option, REP_INFO, infoString(INFO_NAME, e.name()));
        }
        if (o.infoRequests().contains(INFO_DESCRIPTION) && !e.description().isEmpty()) {
            replies.optionReply(option, REP_INFO, infoString(INFO_DESCRIPTION, e.description()));
        }
        // Sent whether asked for or not: our maximum (32 MiB) is tighter than the default, and
        // requests outside it are refused cleanly with NBD_EINVAL either way.
        replies.optionReply(option, REP_INFO, ByteBuffer.allocate(14).putShort((short) INFO_BLOCK_SIZE).putInt(MIN_BLOCK_BYTES)
                .putInt(PREFERRED_BLOCK_BYTES).putInt(MAX_BLOCK_BYTES).flip());
        if (!o.go()) {
            replies.optionReply(option, REP_ACK, null);
            return Optional.empty();
        }
        Agreement agreement = agree(e, o.exportName());
        onAgreement.accept(agreement);
        replies.optionReply(option, REP_ACK, null);
        return Optional.of(agreement);
    }

    private void answerMetaContext(MetaContextOption o) throws IOException {
        int option = o.option();
        if (o.set() && !structuredReplies) {
            replies.optionError(option, REP_ERR_INVALID, "negotiate NBD_OPT_STRUCTURED_REPLY before NBD_OPT_SET_META_CONTEXT");
            return;
        }
        Opened opened = open(o.exportName());
        if (opened.export == null) {
            replies.optionError(option, REP_ERR_UNKNOWN, opened.refusal);
            return;
        }
        // "base:" lists every base: context but selects none; unknown namespaces and leaves are ignored.
        boolean matches = o.set()
                ? o.queries().contains(BASE_ALLOCATION)
                : o.queries().isEmpty() || o.queries().contains("base:") || o.queries().contains(BASE_ALLOCATION);
        if (matches) {
            byte[] name = BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
            int contextId = o.set() ? BASE_ALLOCATION_ID : 0;
            replies.optionReply(option, REP_META_CONTEXT, ByteBuffer.allocate(4 + name.length).putInt(contextId).put(name).flip());
        }
        replies.optionReply(option, REP_ACK, null);
        if (o.set() && matches) {
            metaContextExportName = o.exportName();
        }
    }

    private Agreement agree(NbdExport e, String exportName) {
        return new Agreement(e, exportName, structuredReplies, structuredReplies && exportName.equals(metaContextExportName));
    }

    /**
     * The transmission flags of {@code e}.
     * NBD_FLAG_CAN_MULTI_CONN: every export of a set writes through the set's one journal, a
     * write is in that journal before it is answered, and FLUSH and FUA force the whole
     * journal (set-wide group commit); there is no per-connection cache. So a flush on any
     * connection covers the writes answered on all of them. Read-only exports never change.
     */
    private int transmissionFlags(NbdExport e) {
        int flags = FLAG_HAS_FLAGS | FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_CAN_MULTI_CONN;
        if (e.isReadOnly()) {
            flags |= FLAG_READ_ONLY;
        } else {
            // FAST_ZERO is advertised and always refused with NBD_ENOTSUP: zeroing costs us a journal
            // record and a write of the primary, not meaningfully less than a write (allowed by the spec).
            flags |= FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES | FLAG_SEND_FAST_ZERO;
        }
        if (structuredReplies) {
            flags |= FLAG_SEND_DF; // a READ is always answered with one data chunk
        }
        return flags;
    }

    private record Opened(NbdExport export, String refusal) {
    }

    private Opened open(String exportName) {
        try {
            Optional<NbdExport> e = exports.open(exportName);
            return e.map(x -> new Opened(x, null))
                    .orElseGet(() -> new Opened(null, "there is no export '" + exportName + "'; NBD_OPT_LIST shows the exports"));
        } catch (RewindException e) {
            return new Opened(null, e.getMessage());
        } catch (IOException | RuntimeException e) {
            LOG.warn("nbd {}: opening export '{}' failed", connection, exportName, e);
            return new Opened(null, "export '" + exportName + "' cannot be opened: " + e.getMessage());
        }
    }

    private static ByteBuffer infoString(int type, String text) {
        byte[] bytes = NbdReplyWriter.utf8Truncated(text);
        return ByteBuffer.allocate(2 + bytes.length).putShort((short) type).put(bytes).flip();
    }

    private static int optionOf(NbdMessage m) {
        if (m instanceof InfoOption o) {
            return o.option();
        } else if (m instanceof MetaContextOption o) {
            return o.option();
        } else if (m instanceof RefusedOption o) {
            return o.option();
        } else if (m instanceof ListOption) {
            return OPT_LIST;
        } else if (m instanceof StructuredReplyOption) {
            return OPT_STRUCTURED_REPLY;
        } else if (m instanceof StartTlsOption) {
            return OPT_STARTTLS;
        } else if (m instanceof ExportNameOption) {
            return OPT_EXPORT_NAME;
        }
        throw new IllegalArgumentException(m.toString());
    }
}
