package dev.rewind.cli;

import dev.rewind.capture.CapturedSet;
import dev.rewind.capture.PointResolver;
import dev.rewind.capture.SetInUseException;
import dev.rewind.capture.StoppedSetRecovery;
import dev.rewind.capture.nbd.CapturedSetExports;
import dev.rewind.capture.nbd.NbdExport;
import dev.rewind.capture.nbd.NbdExports;
import dev.rewind.capture.nbd.NbdServer;
import dev.rewind.capture.nbd.NbdTls;
import dev.rewind.capture.sandbox.Sandbox;
import dev.rewind.capture.sandbox.Sandboxes;
import dev.rewind.cli.daemon.ControlServer;
import dev.rewind.cli.daemon.DaemonSchedule;
import dev.rewind.cli.daemon.OfflineSets;
import dev.rewind.cli.daemon.ServeLock;
import dev.rewind.cli.daemon.UnixSocketDir;
import dev.rewind.cli.datadir.CatalogCapture;
import dev.rewind.cli.datadir.DataDir;
import dev.rewind.cli.db.DaemonDatabases;
import dev.rewind.cli.db.SandboxCheck;
import dev.rewind.cli.db.SandboxDatabases;
import dev.rewind.scheduler.ScheduledJob;
import dev.rewind.volumeset.RewindException;
import dev.rewind.volumeset.catalog.Catalog;
import dev.rewind.volumeset.catalog.SetRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve every set's members over NBD (export <set>/<member>; the past read-only as <set>/<member>@<seq>, "
                + "@bookmark:NAME or @time:ISO-8601), capturing every write. While it runs, the other commands talk to it "
                + "through a local control API. Stops cleanly on SIGTERM or Ctrl-C: in-flight requests finish, journals are flushed.",
                "Runs the scheduler (its jobs kept in the catalog; see rewind schedule): a checkpoint of every set each 30s, a "
                        + "period cut for each set with --cut-every (rewind set update), and a consistent bookmark for each attached "
                        + "database with --consistent-every (rewind db attach).",
                "Samples the position of every attached database against the set's seq (--sample-every), so that restores can "
                        + "name an LSN or a binlog position; a database that is down is retried, and does not keep the daemon from starting.",
                "A set that stops taking writes after an I/O error on its secondary (full, read-only) comes back by itself once the "
                        + "secondary takes writes again: retried after 1s, then doubling to every 30s, with every acknowledged write (--retry-stopped-up-to)."},
        footer = {"", "NBD clients connect to the Unix socket DATA/nbd.sock, or nbd.sock in --socket-dir (mode 0600; 0660 with "
                + "rewind init --group, whose members get every export read-only). --listen serves TCP as well; TCP beyond loopback needs --tls require "
                + "(x509 certificates in the layout of nbdkit and qemu-nbd: ca-cert.pem, server-cert.pem, server-key.pem) or --insecure. "
                + "TCP clients, loopback included, get every export read-only unless --tls-verify-peer checked their certificate "
                + "(or --insecure).",
                "", "Examples:", "  rewind serve", "  rewind serve --listen 127.0.0.1:10809",
                "  rewind serve --listen 0.0.0.0:10809 --tls require \\",
                "      --tls-certificates /etc/rewind/tls --tls-verify-peer",
                "  nbdinfo 'nbds://db1.example.com/shop/data?tls-certificates=client-tls'",
                "  rewind serve --max-connections 32 --handshake-timeout 5s --reply-timeout 1m",
                "  rewind --data /srv/long/path/rewind-data serve --socket-dir /run/rewind/shop",
                "  qemu-img info 'nbd+unix:///shop/data?socket=rewind-data/nbd.sock'",
                "  nbdinfo --list 'nbd+unix:///?socket=rewind-data/nbd.sock'"})
final class ServeCommand extends Subcommand {
    /** The NBD socket in the data dir. */
    static final String NBD_SOCKET = "nbd.sock";

    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "Also serve NBD on TCP at HOST:PORT (e.g. 127.0.0.1:10809; port 0 picks one). Default: the Unix socket only.")
    String listen;

    @Option(names = "--tls", paramLabel = "off|on|require", defaultValue = "off",
            description = "TLS on the TCP listener (NBD_OPT_STARTTLS), as nbdkit's --tls: off; on (offered, plain clients served too); "
                    + "require (no option but STARTTLS answered before TLS). The Unix socket is always plain. Default: ${DEFAULT-VALUE}.")
    String tls;

    @Option(names = "--tls-certificates", paramLabel = "DIR",
            description = "Directory of ca-cert.pem, server-cert.pem and server-key.pem (PEM; a PKCS#8, PKCS#1 RSA or EC key).")
    Path tlsCertificates;

    @Option(names = "--tls-verify-peer", description = "Require a client certificate signed by the CA in ca-cert.pem.")
    boolean tlsVerifyPeer;

    @Option(names = "--socket-dir", paramLabel = "DIR",
            description = "Put the Unix sockets (nbd.sock, control.sock) in DIR instead of the data dir (created owner-only if missing), "
                    + "for a data dir whose path is too long for a Unix socket (107 bytes) or on a file system that cannot hold one. "
                    + "The other commands still find the daemon through the data dir.")
    Path socketDir;

    @Option(names = "--insecure", description = "Let every TCP client write, and allow --listen on an address that is not "
            + "loopback without --tls require (anyone who reaches it can read and write the volumes). Without it, TCP clients get "
            + "every export read-only unless --tls-verify-peer checked their certificate; loopback too, since any local user can "
            + "reach it.")
    boolean insecure;

    /** The NBD server's settings, each option applied (and range-checked) as it is parsed. */
    private NbdServer.Settings nbdSettings = NbdServer.Settings.DEFAULT;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "" + NbdServer.Settings.DEFAULT_MAX_CONNECTIONS,
            description = "NBD connections open at once on each socket (the Unix socket and TCP each have their own), negotiating "
                    + "or serving (1 to " + NbdServer.Settings.MAX_CONNECTIONS_LIMIT + "); at the limit a new one takes the place of the "
                    + "oldest still negotiating, and is refused only when all are serving (default ${DEFAULT-VALUE}).")
    void maxConnections(String text) {
        int n = wholeNumber("--max-connections", text);
        nbdSettings = checked("--max-connections", text, () -> nbdSettings.withMaxConnections(n));
    }

    @Option(names = "--max-connections-per-client", paramLabel = "N",
            defaultValue = "" + NbdServer.Settings.DEFAULT_MAX_CONNECTIONS_PER_PEER,
            description = "NBD connections open at once from one client address on TCP (1 to " + NbdServer.Settings.MAX_CONNECTIONS_LIMIT
                    + "; at most --max-connections), so one host cannot take them all (default ${DEFAULT-VALUE}).")
    void maxConnectionsPerClient(String text) {
        int n = wholeNumber("--max-connections-per-client", text);
        nbdSettings = checked("--max-connections-per-client", text, () -> nbdSettings.withMaxConnectionsPerPeer(n));
    }

    private int wholeNumber(String option, String text) {
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw usage(option + " '" + text + "' is not a whole number, e.g. 128");
        }
    }

    @Option(names = "--handshake-timeout", paramLabel = "DURATION", defaultValue = "10s",
            description = "Close an NBD connection that has not finished option negotiation within this long "
                    + "(e.g. 500ms, 10s, 2m; 1ms to 1h; default ${DEFAULT-VALUE}).")
    void handshakeTimeout(String text) {
        Duration d = duration("--handshake-timeout", text);
        nbdSettings = checked("--handshake-timeout", text, () -> nbdSettings.withHandshakeTimeout(d));
    }

    @Option(names = "--reply-timeout", paramLabel = "DURATION", defaultValue = "30s",
            description = "Drop an NBD client that takes no byte of its replies for this long; its buffers go back to the "
                    + "server (1ms to 1h; default ${DEFAULT-VALUE}).")
    void replyTimeout(String text) {
        Duration d = duration("--reply-timeout", text);
        nbdSettings = checked("--reply-timeout", text, () -> nbdSettings.withReplyTimeout(d));
    }

    /** How stopped sets are retried. */
    private StoppedSetRecovery.Backoff stoppedSetRetry = StoppedSetRecovery.Backoff.DEFAULT;

    @Option(names = "--retry-stopped-up-to", paramLabel = "DURATION", defaultValue = "30s",
            description = "A set stopped by an I/O error on its secondary is retried after 1s, then each time twice as long, up to "
                    + "this long between attempts (1s to 1h; default ${DEFAULT-VALUE}).")
    void retryStoppedUpTo(String text) {
        Duration cap = duration("--retry-stopped-up-to", text);
        if (cap.compareTo(Duration.ofSeconds(1)) < 0 || cap.compareTo(Duration.ofHours(1)) > 0) {
            throw usage("--retry-stopped-up-to '" + text + "' must be 1s to 1h");
        }
        stoppedSetRetry = new StoppedSetRecovery.Backoff(StoppedSetRecovery.Backoff.DEFAULT.first(), cap);
    }

    /** How stopped sets are retried, as the options asked. */
    StoppedSetRecovery.Backoff stoppedSetRetry() {
        return stoppedSetRetry;
    }

    /** The settings the options asked for (all defaults when none was given). */
    NbdServer.Settings nbdSettings() {
        return nbdSettings;
    }

    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

    /** {@code text} as a duration: a whole number and a unit, ms, s, m or h. */
    private Duration duration(String option, String text) {
        Matcher m = DURATION.matcher(text.strip());
        if (!m.matches()) {
            throw usage(option + " '" + text + "' is not a duration: a whole number and ms, s, m or h, e.g. 10s");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    private NbdServer.Settings checked(String option, String text, Supplier<NbdServer.Settings> apply) {
        try {
            return apply.get();
        } catch (IllegalArgumentException e) {
            throw usage(option + " '" + text + "': " + e.getMessage());
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    @Override
    boolean runsInDaemon() {
        return false;
    }

    static InetSocketAddress parseAddress(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new dev.rewind.volumeset.MalformedValueException("--listen '" + text + "' is not HOST:PORT, e.g. 127.0.0.1:10809");
        }
        String host = text.substring(0, colon).replace("[", "").replace("]", "");
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535) {
            throw new dev.rewind.volumeset.MalformedValueException("--listen port in '" + text + "' must be 0 to 65535");
        }
        return new InetSocketAddress(host, port);
    }

    @Override
    void run(DataDir data, Output out) throws Exception {
        InetSocketAddress address = listen == null ? null : parseAddress(listen);
        NbdTls nbdTls = tlsFor(address);
        if (!data.isInitialized()) {
            data.catalog(); // refuses with what to do
        }
        try (ServeLock lock = ServeLock.acquire(data.path())) {
            Path sockets = socketDir == null ? data.path() : socketDir.toAbsolutePath();
            UnixSocketDir.require(sockets, socketDir != null, List.of(NBD_SOCKET, ControlServer.SOCKET_FILE));
            serve(data, out, address, nbdTls, sockets);
        }
    }

    /**
     * The TLS of the TCP listener, checked before anything starts: --tls needs --listen and
     * certificates that can be read, and an address beyond loopback needs --tls require or
     * --insecure (said out loud in the log).
     */
    private NbdTls tlsFor(InetSocketAddress address) {
        NbdTls.Mode mode = switch (tls.strip().toLowerCase(Locale.ROOT)) {
            case "off" -> NbdTls.Mode.OFF;
            case "on" -> NbdTls.Mode.ON;
            case "require" -> NbdTls.Mode.REQUIRE;
            default -> throw usage("--tls '" + tls + "' is not off, on or require");
        };
        if (mode == NbdTls.Mode.OFF && (tlsCertificates != null || tlsVerifyPeer)) {
            throw usage((tlsCertificates != null ? "--tls-certificates" : "--tls-verify-peer") + " needs --tls on or --tls require");
        }
        if (mode != NbdTls.Mode.OFF && address == null) {
            throw usage("--tls applies to TCP: add --listen HOST:PORT (the Unix socket DATA/nbd.sock is always plain; its file mode protects it)");
        }
        if (address != null) {
            if (address.isUnresolved()) {
                throw new RewindException("--listen host '" + address.getHostString() + "' does not resolve to an address");
            }
            String where = address.getHostString() + ":" + address.getPort();
            if (!address.getAddress().isLoopbackAddress() && mode != NbdTls.Mode.REQUIRE) {
                if (!insecure) {
                    throw new RewindException("--listen " + where + " is not loopback: serve it with --tls require --tls-certificates DIR, "
                            + "or add --insecure to serve the volumes to anyone who reaches it");
                }
                LoggerFactory.getLogger(ServeCommand.class).warn("serving NBD over TCP without TLS: anyone who reaches {} can read and write "
                        + "the volumes", where);
            } else if (insecure) {
                LoggerFactory.getLogger(ServeCommand.class).warn("serving NBD over TCP with --insecure: anyone who reaches {} can write "
                        + "the volumes, without a checked client certificate", where);
            }
        }
        return NbdTls.load(mode, tlsCertificates, tlsVerifyPeer);
    }

    private void serve(DataDir data, Output out, InetSocketAddress address, NbdTls nbdTls, Path sockets) throws Exception {
        Catalog catalog = data.catalog();
        Clock clock = data.clock();
        Map<String, CapturedSet> sets = new ConcurrentHashMap<>();
        CountDownLatch stopped = new CountDownLatch(1);
        NbdServer nbd = null;
        ControlServer control = null;
        DaemonSchedule schedule = null;
        StoppedSetRecovery recovery = null;
        DaemonDatabases databases = new DaemonDatabases(catalog, sets::get, clock);
        Sandboxes sandboxes = null;
        SandboxDatabases sandboxDatabases = new SandboxDatabases();
        OfflineSets offline = new OfflineSets(clock);
        try {
            for (SetRecord set : catalog.listSets()) {
                try {
                    sets.put(set.name(), CatalogCapture.open(catalog, set.name(), Duration.ZERO, clock));
                } catch (IOException | RuntimeException e) {
                    offline.takeOffline(set.name(), e); // the others are served all the same
                }
            }
            schedule = DaemonSchedule.start(catalog, sets, clock);
            for (String name : sets.keySet()) {
                schedule.scheduleSet(name);
            }
            DaemonSchedule jobs = schedule;
            for (String name : sets.keySet()) {
                databases.refresh(name);
            }
            sandboxes = Sandboxes.open(DataDir.sandboxRoot(data.path()), catalog, clock);
            SandboxCheck.dropInterrupted(data, sandboxes).forEach(line -> out.line("%s", line));
            Sandboxes openSandboxes = sandboxes;
            CapturedSetExports exports = new CapturedSetExports(sets, DataDir.bookmarkLookup(catalog), sandboxes);
            Set<String> heldOff = ConcurrentHashMap.newKeySet();
            Path socket = sockets.resolve(NBD_SOCKET);
            List<SocketAddress> listenOn = new ArrayList<>(List.of(UnixDomainSocketAddress.of(socket)));
            if (address != null) {
                listenOn.add(address);
            }
            nbd = NbdServer.start(listenOn, new NbdExports() {
                @Override
                public Optional<NbdExport> open(String exportName) throws IOException {
                    int slash = exportName.indexOf('/');
                    if (slash > 0) {
                        offline.checkOnline(exportName.substring(0, slash));
                    }
                    // a restore in place holds off the set as it is now; its past (@seq, @bookmark:) stays served
                    if (slash > 0 && exportName.indexOf('@') < 0 && heldOff.contains(exportName.substring(0, slash))) {
                        throw new RewindException("set " + exportName.substring(0, slash) + " is being restored; connect again when it is done");
                    }
                    return exports.open(exportName);
                }

                @Override
                public List<String> names() {
                    return exports.names();
                }

                @Override
                public List<Listing> list() {
                    return exports.list();
                }
            }, nbdSettings, nbdTls, insecure ? NbdServer.TcpWrites.ANY_CLIENT : NbdServer.TcpWrites.VERIFIED_CLIENTS);
            NbdServer server = nbd;
            StoppedSetRecovery[] stoppedSets = new StoppedSetRecovery[1]; // started once the daemon below can reopen sets
            DataDir.Daemon daemon = new DataDir.Daemon() {
                @Override
                public CapturedSet openSet(String name) {
                    offline.checkOnline(name);
                    return sets.computeIfAbsent(name, n -> {
                        try {
                            CapturedSet opened = CatalogCapture.open(catalog, n, Duration.ZERO, clock);
                            jobs.scheduleSet(n);
                            return opened;
                        } catch (SetInUseException e) {
                            throw e;
                        } catch (IOException | RuntimeException e) {
                            throw offline.takeOffline(n, e);
                        }
                    }).retain();
                }

                @Override
                public Optional<dev.rewind.capture.SetOfflineException> offlineReason(String setName) {
                    return offline.reason(setName);
                }

                @Override
                public void reopenSet(String setName) throws IOException {
                    heldOff.add(setName);
                    try {
                        stopServing(setName, server, databases, sets, jobs); // its clients connect again to the set as reopened
                    } finally {
                        heldOff.remove(setName);
                    }
                    offline.online(setName); // tried anew: what failed may have been fixed
                    openSet(setName).close();
                    databases.refresh(setName);
                }

                @Override
                public int connectionCount(String setName) {
                    return server.connectionCount(setName);
                }

                @Override
                public List<NbdServer.Client> nbdClients(String setName) {
                    return server.clients(setName);
                }

                @Override
                public AutoCloseable holdOffClients(String setName, boolean dropClients) {
                    heldOff.add(setName);
                    if (dropClients) {
                        server.disconnectLive(setName);
                    }
                    return () -> heldOff.remove(setName);
                }

                @Override
                public void closeSet(String setName) throws IOException {
                    heldOff.add(setName);
                    try {
                        int clients = server.connectionCount(setName);
                        if (clients > 0) {
                            throw new RewindException("set " + setName + " has " + clients + " connected NBD client(s); disconnect them first");
                        }
                        databases.stop(setName);
                        CapturedSet set = sets.remove(setName);
                        jobs.unscheduleSet(setName);
                        offline.online(setName);
                        if (set != null) {
                            set.close();
                        }
                    } finally {
                        heldOff.remove(setName);
                    }
                }

                @Override
                public void settingsChanged(String setName) throws IOException {
                    CapturedSet set = sets.get(setName);
                    if (set != null) {
                        CatalogCapture.apply(set, catalog.settings(setName));
                        jobs.scheduleSet(setName);
                    }
                }

                @Override
                public List<ScheduledJob> schedule(Optional<String> setName) {
                    return jobs.jobs(setName);
                }

                @Override
                public void databaseChanged(String setName) {
                    try {
                        openSet(setName).close(); // served from now on, if it was not yet: scheduled and in the map
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    jobs.scheduleSet(setName);
                    databases.refresh(setName);
                }

                @Override
                public AutoCloseable pauseSampling(String setName) {
                    return databases.pause(setName);
                }

                @Override
                public String nbdUri(String exportName) {
                    return unixUri(socket, exportName);
                }

                @Override
                public Sandboxes sandboxes() {
                    return openSandboxes;
                }

                @Override
                public int sandboxConnectionCount(String setName, String sandboxName) {
                    return server.connectionCount(Sandbox.clientKey(setName, sandboxName));
                }

                @Override
                public void disconnectSandbox(String setName, String sandboxName) {
                    server.disconnect(Sandbox.clientKey(setName, sandboxName));
                }

                @Override
                public <T> Optional<T> service(Class<T> type) {
                    Object service = type == StoppedSetRecovery.class ? stoppedSets[0] : sandboxDatabases;
                    return type.isInstance(service) ? Optional.of(type.cast(service)) : Optional.empty();
                }
            };
            recovery = stoppedSets[0] = new StoppedSetRecovery(servedSets(sets, offline, daemon, setName -> {
                stopServing(setName, server, databases, sets, jobs);
            }), clock, stoppedSetRetry).start();
            StoppedSetRecovery openRecovery = recovery;
            String nbdAddress = address == null ? null : address.getHostString() + ":" + nbd.port();
            control = ControlServer.start(data.path(), sockets,
                    (call, stdout, stderr) -> new DaemonRequest(data.path(), call.workingDir(), call.terminal(), call.clientGone(), daemon,
                            catalog, clock).run(call.args(), stdout, stderr),
                    socket.toString(), nbdAddress);
            ControlServer controlServer = control;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                openRecovery.close(); // no reopen while the rest stops
                stop(controlServer, server, jobs, databases, sandboxDatabases, openSandboxes, sets);
                stopped.countDown();
            }, "rewind-shutdown"));
            for (CapturedSet s : sets.values()) {
                s.interruptedRestore().ifPresent(ir -> out.line("set %s is not served as it is now: %s", s.name(), ir.describe(s.name())));
            }
            out.line("rewind serve: %d set(s)%s on %s%s (exports: %s)", sets.size(),
                    offline.names().isEmpty() ? "" : ", offline: " + String.join(", ", offline.names()) + " (see rewind status)",
                    unixUri(socket, ""),
                    nbdAddress == null ? "" : " and " + (nbdTls.mode() == NbdTls.Mode.REQUIRE ? "nbds://" : "nbd://") + nbdAddress
                            + switch (nbdTls.mode()) {
                                case OFF -> "";
                                case ON -> " (TLS offered" + (nbdTls.verifyPeer() ? ", client certificates checked)" : ")");
                                case REQUIRE -> " (TLS required" + (nbdTls.verifyPeer() ? ", client certificates checked)" : ")");
                            } + (insecure ? ", writable by any TCP client (--insecure)"
                                    : nbdTls.verifyPeer() ? ", writable over TCP with a checked client certificate"
                                    : ", read-only over TCP (writes need --tls-verify-peer or --insecure)"),
                    String.join(", ", exports.names().stream().filter(n -> !n.contains("@" + PointResolver.BOOKMARK)).toList()));
            out.line("control API on %s (token in %s); stop with SIGTERM or Ctrl-C", control.socket(), data.path().resolve("daemon.token"));
            out.json(Output.map("nbdSocket", socket.toString(), "nbd", nbdAddress, "controlSocket", control.socket().toString(),
                    "sets", sets.keySet().stream().sorted().toList(), "offline", List.copyOf(offline.names())));
            stopped.await();
        } catch (Exception e) {
            if (recovery != null) {
                recovery.close();
            }
            stop(control, nbd, schedule, databases, sandboxDatabases, sandboxes, sets);
            throw e;
        }
    }

    /**
     * The libnbd/qemu URI of an export on the Unix socket:
     * {@code nbd+unix:///shop/data?socket=/srv/rewind/nbd.sock}. The export name and the socket's
     * path are percent-encoded where RFC 3986 wants it (a space, {@code %}, {@code ?}, {@code #},
     * {@code &}, {@code +}, non-ASCII), so a data dir anywhere gives a URI the clients parse back
     * to the same path.
     */
    static String unixUri(Path socket, String exportName) {
        return "nbd+unix:///" + percentEncode(exportName, "/:@") + "?socket=" + percentEncode(socket.toString(), "/:@");
    }

    /** Percent-encodes the UTF-8 bytes of {@code s} but RFC 3986's unreserved characters and {@code keep}. */
    static String percentEncode(String s, String keep) {
        StringBuilder b = new StringBuilder(s.length());
        for (byte x : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '.' || c == '_' || c == '~' || (c < 0x80 && keep.indexOf(c) >= 0);
            if (plain) {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return b.toString();
    }

    /** The daemon's sets as {@link StoppedSetRecovery} retries them: reopened as {@code rewind set reopen} does. */
    private static StoppedSetRecovery.ServedSets servedSets(Map<String, CapturedSet> sets, OfflineSets offline, DataDir.Daemon daemon,
                                                            StopServing stopServing) {
        return new StoppedSetRecovery.ServedSets() {
            @Override
            public java.util.Collection<CapturedSet> open() {
                return List.copyOf(sets.values());
            }

            @Override
            public Optional<CapturedSet> open(String setName) {
                return Optional.ofNullable(sets.get(setName));
            }

            @Override
            public boolean isOffline(String setName) {
                return offline.reason(setName).isPresent();
            }

            @Override
            public void reopen(String setName) throws IOException {
                daemon.reopenSet(setName);
            }

            @Override
            public void release(String setName, String why) throws IOException {
                offline.takeOffline(setName, new RewindException(why)); // first: no command opens it again in between
                stopServing.stop(setName);
            }
        };
    }

    /** {@link #stopServing} with what the daemon holds. */
    private interface StopServing {
        void stop(String setName) throws IOException;
    }

    /**
     * Stops serving a set: its NBD clients disconnected, its database sampling and jobs stopped,
     * and it closed. A stopped set cannot take its last checkpoint; its next open recovers from
     * the journal.
     */
    private static void stopServing(String setName, NbdServer server, DaemonDatabases databases, Map<String, CapturedSet> sets,
                                    DaemonSchedule jobs) {
        server.disconnect(setName);
        databases.stop(setName);
        CapturedSet set = sets.remove(setName);
        jobs.unscheduleSet(setName);
        if (set != null) {
            try {
                set.close();
            } catch (IOException e) {
                LoggerFactory.getLogger(ServeCommand.class).warn("set {}: closing: {}", setName, e.toString());
            }
        }
    }

    private static void stop(ControlServer control, NbdServer nbd, DaemonSchedule schedule, DaemonDatabases databases,
            SandboxDatabases sandboxDatabases, Sandboxes sandboxes, Map<String, CapturedSet> sets) {
        if (control != null) {
            control.close();
        }
        sandboxDatabases.close(); // while the NBD server still serves their exports, so they unmount cleanly
        if (nbd != null) {
            nbd.close();
        }
        if (schedule != null) {
            try {
                schedule.close();
            } catch (RuntimeException e) {
                System.err.println("rewind: stopping the scheduler: " + e.getMessage());
            }
        }
        databases.close();
        if (sandboxes != null) {
            try {
                sandboxes.close();
            } catch (IOException | RuntimeException e) {
                System.err.println("rewind: closing sandboxes: " + e.getMessage());
            }
        }
        for (CapturedSet set : sets.values()) {
            try {
                set.close();
            } catch (IOException e) {
                System.err.println("rewind: closing set " + set.name() + ": " + e.getMessage());
            }
        }
    }
}
