package dev.rewind.cli.access;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Who can reach what Rewind keeps, with the real command ({@code java -jar rewind.jar}) run
 * under a given umask ({@code sh -c 'umask 000; exec ...'}): every path it creates is 0700/0600
 * (0750/0640 with {@code rewind init --group}); a data dir or secondary that others can write
 * is refused and left as it was; another user cannot connect to the NBD or control socket nor
 * read the journal; a member of the group can read the volume over NBD and the journal, and
 * cannot write either. Needs nbdcopy (libnbd-bin) and curl; the user tests need root.
 */
class PrivateFilesIT {
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final int IMAGE_BYTES = 1 << 20;

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "umask {0}")
    @ValueSource(strings = {"022", "000"})
    void everyPathRewindCreatesIsOwnerOnlyWhateverTheUmask(String umask) throws Exception {
        Layout l = build(umask, null);
        assertModes(l, null);
    }

    @Test
    void withGroupEveryPathIsGroupReadableAndAMemberReadsButCannotWrite() throws Exception {
        Tools.requireRoot("creates a group and a user");
        String suffix = Long.toString(ProcessHandle.current().pid());
        String group = "rwgrp" + suffix;
        String user = "rwusr" + suffix;
        Tools.run(TIMEOUT, "groupadd", group).assertOk();
        try {
            Tools.run(TIMEOUT, "useradd", "-M", "-N", "-g", group, "-s", "/usr/sbin/nologin", user).assertOk();
            try {
                Layout l = build("000", group);
                assertModes(l, group);
                try (Serve serve = Serve.start(l, "000")) {
                    String uri = "nbd+unix:///set/data?socket=" + l.data.resolve("nbd.sock");
                    Path back = tmp.resolve("back.img");
                    Files.createFile(back);
                    Tools.run(TIMEOUT, "chown", user, back.toString()).assertOk();
                    Tools.Result read = as(user, group, nbdcopy(), uri, back.toString());
                    assertEquals(0, read.exitCode(), () -> "a member of the group reads the volume: " + read.describe());
                    assertArrayEquals(l.image, java.util.Arrays.copyOf(Files.readAllBytes(back), IMAGE_BYTES));
                    Tools.Result write = as(user, group, nbdcopy(), l.other.toString(), uri);
                    assertNotEquals(0, write.exitCode(), () -> "a member of the group must not write the volume: " + write.describe());
                    Tools.Result control = as(user, group, curl(), "-sS", "--unix-socket", l.data.resolve("control.sock").toString(),
                            "-d", "{}", "http://localhost/v1/run");
                    assertNotEquals(0, control.exitCode(), () -> "the control socket is the owner's: " + control.describe());
                    Tools.run(TIMEOUT, nbdcopy(), uri, tmp.resolve("after.img").toString()).assertOk();
                    assertArrayEquals(l.image, java.util.Arrays.copyOf(Files.readAllBytes(tmp.resolve("after.img")), IMAGE_BYTES),
                            "the refused write changed nothing");
                }
                Path segment = journalSegment(l);
                assertEquals(0, as(user, group, "cat", segment.toString()).exitCode(), "a member of the group reads the journal");
                assertNotEquals(0, as(user, group, "sh", "-c", "echo x >> \"$0\"", segment.toString()).exitCode(),
                        "and cannot write it");
            } finally {
                Tools.run(TIMEOUT, "userdel", user);
            }
        } finally {
            Tools.run(TIMEOUT, "groupdel", group);
        }
    }

    @Test
    void anotherUserReachesNeitherSocketNorJournal() throws Exception {
        Tools.requireRoot("runs commands as user nobody");
        Layout l = build("000", null);
        try (Serve serve = Serve.start(l, "000")) {
            Tools.Result nbd = as("nobody", "nogroup", "nbdinfo", "nbd+unix:///set/data?socket=" + l.data.resolve("nbd.sock"));
            assertNotEquals(0, nbd.exitCode(), () -> "nobody must not connect to nbd.sock: " + nbd.describe());
            Tools.Result control = as("nobody", "nogroup", curl(), "-sS", "--unix-socket", l.data.resolve("control.sock").toString(),
                    "-d", "{}", "http://localhost/v1/run");
            assertNotEquals(0, control.exitCode(), () -> "nobody must not connect to control.sock: " + control.describe());
        }
        Tools.Result journal = as("nobody", "nogroup", "cat", journalSegment(l).toString());
        assertNotEquals(0, journal.exitCode(), () -> "nobody must not read the journal: " + journal.describe());
        Tools.Result secondary = as("nobody", "nogroup", "cat", l.secondary.resolve("SET").toString());
        assertNotEquals(0, secondary.exitCode(), () -> "nobody must not read a secondary outside the data dir: " + secondary.describe());
    }

    @Test
    void aDataDirOrSecondaryOthersCanWriteIsRefusedAndLeftAsItWas() throws Exception {
        Layout l = build("022", null);
        for (Path shared : List.of(l.data, l.secondary)) {
            Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
            Map<String, String> before = snapshot(tmp);
            Tools.Result r = rewind(l, "022", "log", "other");
            assertNotEquals(0, r.exitCode(), r::describe);
            String line = r.err().strip();
            assertEquals(1, line.lines().count(), () -> "one line: " + r.describe());
            assertTrue(line.contains(shared.toString()) && line.contains("chmod go-w " + shared), () -> "names the path and the fix: " + line);
            assertEquals(before, snapshot(tmp), "nothing changed on disk");
            Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwx------"));
        }
        Files.setPosixFilePermissions(l.data, PosixFilePermissions.fromString("rwxr-xr-x"));
        Tools.Result warned = rewind(l, "022", "status");
        assertEquals(0, warned.exitCode(), warned::describe);
        assertTrue(warned.err().contains("can be read by other users") && warned.err().contains("chmod o-rwx " + l.data), warned::describe);
    }

    // ---- the layout: every kind of file Rewind makes ----

    /** A data dir with sets 'set' (default secondary) and 'other' (secondary outside), written to, cut, cloned, sandboxed. */
    private record Layout(Path data, Path secondary, Path cloneDir, byte[] image, Path other) {
    }

    private Layout build(String umask, String group) throws Exception {
        Tools.require("nbdcopy", "libnbd-bin");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x")); // others may pass; Rewind's modes must stop them
        Path data = tmp.resolve("data");
        Layout l = new Layout(data, tmp.resolve("sec-other"), tmp.resolve("clone"), new byte[IMAGE_BYTES], tmp.resolve("other.img"));
        new Random(15).nextBytes(l.image);
        Files.write(tmp.resolve("in.img"), l.image);
        byte[] other = new byte[IMAGE_BYTES];
        new Random(16).nextBytes(other);
        Files.write(l.other, other);
        List<String> init = new ArrayList<>(List.of("init"));
        if (group != null) {
            init.addAll(List.of("--group", group));
        }
        rewind(l, umask, init.toArray(new String[0])).assertOk();
        rewind(l, umask, "pv", "create", "pv0", "--path", tmp.resolve("pv0.img").toString(), "--size", "32M").assertOk();
        rewind(l, umask, "vg", "create", "vg0", "--pv", "pv0", "--extent-size", "1M").assertOk();
        rewind(l, umask, "lv", "create", "data", "--vg", "vg0", "--size", "2M").assertOk();
        rewind(l, umask, "lv", "create", "data2", "--vg", "vg0", "--size", "2M").assertOk();
        rewind(l, umask, "set", "create", "set", "--member", "vg0/data").assertOk();
        rewind(l, umask, "set", "create", "other", "--member", "vg0/data2", "--secondary", l.secondary.toString()).assertOk();
        try (Serve serve = Serve.start(l, umask)) {
            Tools.run(TIMEOUT, nbdcopy(), tmp.resolve("in.img").toString(), "nbd+unix:///set/data?socket=" + data.resolve("nbd.sock"))
                    .assertOk();
            serve.checkRunningModes(group);
            rewind(l, umask, "cut", "set").assertOk();
            rewind(l, umask, "bookmark", "set", "b1").assertOk();
            rewind(l, umask, "restore", "set", "--to-seq", "1", "--clone-to", l.cloneDir.toString()).assertOk();
            rewind(l, umask, "sandbox", "create", "set", "sb", "--at", "bookmark:b1").assertOk();
        }
        return l;
    }

    private void assertModes(Layout l, String group) throws IOException {
        List<String> wrong = new ArrayList<>();
        int checked = 0;
        try (Stream<Path> walk = Files.walk(tmp)) {
            for (Path p : walk.toList()) {
                String rel = tmp.relativize(p).toString();
                if (p.equals(tmp) || rel.endsWith(".log") || rel.equals("in.img") || rel.equals("other.img")) {
                    continue; // the test's own
                }
                PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                String mode = PosixFilePermissions.toString(a.permissions());
                String expected;
                boolean groupShared = group != null;
                if (rel.matches("data/sandboxes/[^/]+/.+") || rel.startsWith("clone")) {
                    expected = a.isDirectory() ? "rwx------" : "rw-------"; // below a directory that grants its group nothing
                    groupShared = false;
                } else if (group != null) {
                    expected = a.isDirectory() ? "rwxr-x---" : "rw-r-----";
                } else {
                    expected = a.isDirectory() ? "rwx------" : "rw-------";
                }
                checked++;
                if (!mode.equals(expected)) {
                    wrong.add(rel + " is " + mode + ", expected " + expected);
                }
                if (groupShared && !a.group().getName().equals(group)) {
                    wrong.add(rel + " has group " + a.group().getName() + ", expected " + group);
                }
            }
        }
        assertTrue(checked > 25, "walked only " + checked + " paths");
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    }

    private Path journalSegment(Layout l) throws IOException {
        try (Stream<Path> s = Files.list(l.data.resolve("sets/set/journal"))) {
            return s.filter(p -> p.toString().endsWith(".rwj")).findFirst().orElseThrow();
        }
    }

    /**
     * Name, size, modification time and mode of every path below {@code root}, except the H2
     * catalog's files (H2 compacts its file when any command closes it, a read-only one too).
     */
    private static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                if (root.relativize(p).toString().startsWith("data/catalog/")) {
                    continue;
                }
                PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                m.put(root.relativize(p).toString(), a.size() + " " + a.lastModifiedTime() + " " + PosixFilePermissions.toString(a.permissions()));
            }
        }
        return m;
    }

    // ---- processes ----

    private static Path jar() {
        Path jar = Path.of("target", "rewind.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            fail(jar + " does not exist: run the integration tests with 'mvn verify' (the jar is built by 'package')");
        }
        return jar;
    }

    private static List<String> command(Layout l, String umask, String... args) {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "umask " + umask + "; exec \"$0\" \"$@\"",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar().toString(), "--data", l.data.toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static Tools.Result rewind(Layout l, String umask, String... args) {
        return Tools.run(TIMEOUT, command(l, umask, args));
    }

    /** Runs {@code command} as {@code user} with group {@code group} and no other groups. */
    private static Tools.Result as(String user, String group, String... command) {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid", user, "--regid", group, "--clear-groups", "--"));
        cmd.addAll(List.of(command));
        return Tools.run(TIMEOUT, cmd);
    }

    private static String nbdcopy() {
        return Tools.requireTool("nbdcopy", "libnbd-bin");
    }

    private static String curl() {
        return Tools.requireTool("curl", "curl");
    }

    /** {@code rewind serve} under a umask, until closed. */
    private static final class Serve implements AutoCloseable {
        private final Process process;
        private final Layout layout;

        private Serve(Process process, Layout layout) {
            this.process = process;
            this.layout = layout;
        }

        static Serve start(Layout l, String umask) throws Exception {
            Path log = l.data.getParent().resolve("serve.log");
            long from = Files.exists(log) ? Files.size(log) : 0;
            Process p = new ProcessBuilder(command(l, umask, "serve")).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            Serve s = new Serve(p, l);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!(Files.exists(log) && Files.readString(log).substring((int) from).lines().anyMatch(x -> x.startsWith("control API on")))) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    s.close();
                    fail("rewind serve did not start:\n" + Files.readString(log));
                }
                Thread.sleep(50);
            }
            return s;
        }

        /** The sockets and the daemon's files while it runs. */
        void checkRunningModes(String group) throws IOException {
            Path d = layout.data;
            assertEquals(group == null ? "rw-------" : "rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.resolve("nbd.sock"))));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.resolve("control.sock"))));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.resolve("daemon.token"))));
            assertEquals(group == null ? "rw-------" : "rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(d.resolve("daemon.json"))));
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
