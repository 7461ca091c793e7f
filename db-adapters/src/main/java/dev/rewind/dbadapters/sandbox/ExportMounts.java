package dev.rewind.dbadapters.sandbox;

import dev.rewind.volumeset.RewindException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A set's exports mounted as the file systems they hold, the way the database sees its
 * volumes: per member, {@code nbdfuse} shows the export as a file, {@code losetup} makes it a
 * block device, and its ext4 is mounted (mounting replays the ext4 journal, which on a sandbox
 * goes to the sandbox's overlay). {@link #unmount()} reverses it all and waits until nbdfuse
 * has exited (its NBD connection closed); {@link #forceUnmount(Path, List)} cleans up by force
 * whatever a failure or a crashed daemon left. Needs root.
 *
 * <pre>
 *   &lt;work&gt;/                      mode 0711: the database's OS user reaches the mounts through it (and the
 *                                directories above it up to the data dir's sandboxes/ get o+x, traverse only)
 *     mounts.log                   every command run and its output
 *     fuse/MEMBER/nbd              nbdfuse's view of the export (fuse/ mode 0700)
 *     nbdfuse-MEMBER.pid, .log     its pid file and output
 *     mnt/MEMBER/                  the member's ext4 (mnt/ mode 0755)
 * </pre>
 */
public final class ExportMounts {
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration NBDFUSE_START = Duration.ofMinutes(1);
    private static final Duration UNMOUNT_PATIENCE = Duration.ofSeconds(30);
    private static final Set<PosixFilePermission> REACHABLE = PosixFilePermissions.fromString("rwxr-xr-x");
    private static final Set<PosixFilePermission> TRAVERSE_ONLY = PosixFilePermissions.fromString("rwx--x--x");
    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");

    private final Path workDir;
    private final List<String> members;
    private final Map<String, Path> mountDirs;
    private final Commands commands;
    private final boolean readOnly;

    private ExportMounts(Path workDir, List<String> members, Commands commands, boolean readOnly) {
        this.workDir = workDir;
        this.readOnly = readOnly;
        this.members = List.copyOf(members);
        this.commands = commands;
        Map<String, Path> dirs = new LinkedHashMap<>();
        for (String m : members) {
            dirs.put(m, mountDir(workDir, m));
        }
        this.mountDirs = Map.copyOf(dirs);
    }

    /** The export name of a member of a sandbox: {@code <set>/<member>@sandbox:<name>}. */
    public static String sandboxExport(String setName, String member, String sandboxName) {
        return setName + "/" + member + "@sandbox:" + sandboxName;
    }

    /** Where member {@code member} is mounted under {@code workDir}. */
    public static Path mountDir(Path workDir, String member) {
        return workDir.resolve("mnt").resolve(member);
    }

    /**
     * Mounts each member's export (the whole NBD URI {@code uriOf(member)}, passed to nbdfuse as is) under {@code workDir};
     * on failure, what was mounted is taken down again and the error names the log. Makes
     * {@code workDir} and the directories from it up to {@code reachableUpTo} traversable by
     * every user (execute only), and refuses when a directory above that is not.
     */
    public static ExportMounts mount(Path workDir, Path reachableUpTo, List<String> members, Function<String, String> uriOf)
            throws IOException {
        return mount(workDir, reachableUpTo, members, uriOf, false);
    }

    /**
     * {@link #mount(Path, Path, List, Function)}, the file systems mounted read-only with
     * {@code readOnly} (ext4 still replays its journal, into the export's overlay: the loop
     * device stays writable).
     */
    public static ExportMounts mount(Path workDir, Path reachableUpTo, List<String> members, Function<String, String> uriOf,
            boolean readOnly) throws IOException {
        Commands.requireRoot("mounting a sandbox's file systems");
        prepare(workDir, reachableUpTo);
        ExportMounts mounts = new ExportMounts(workDir, members, new Commands(workDir.resolve("mounts.log")), readOnly);
        List<String> done = new ArrayList<>();
        try {
            for (String m : members) {
                done.add(m);
                mounts.mountMember(m, uriOf.apply(m));
            }
        } catch (IOException | RuntimeException e) {
            forceUnmount(workDir, done);
            throw e;
        }
        return mounts;
    }

    public Path workDir() {
        return workDir;
    }

    /** Member name to where its file system is mounted. */
    public Map<String, Path> mountDirs() {
        return mountDirs;
    }

    public Path log() {
        return commands.log();
    }

    private void mountMember(String member, String uri) throws IOException {
        Path fuse = workDir.resolve("fuse").resolve(member);
        Path mnt = mountDir(workDir, member);
        Files.createDirectories(fuse);
        Files.createDirectories(mnt);
        Files.setPosixFilePermissions(mnt, REACHABLE);
        Path pidFile = workDir.resolve("nbdfuse-" + member + ".pid");
        Path log = workDir.resolve("nbdfuse-" + member + ".log");
        Files.deleteIfExists(pidFile);
        commands.append("$ nbdfuse -P " + pidFile + " " + fuse + " " + uri + "\n");
        Process nbdfuse = new ProcessBuilder("setsid", "nbdfuse", "-P", pidFile.toString(), fuse.toString(), uri)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        nbdfuse.getOutputStream().close();
        Instant deadline = Instant.now().plus(NBDFUSE_START);
        while (!(Files.exists(fuse.resolve("nbd")) && pidOf(pidFile).isPresent())) {
            if (!nbdfuse.isAlive()) {
                throw new RewindException("nbdfuse could not open export " + uri + " (exit " + nbdfuse.exitValue() + "): "
                        + Commands.lastLine(readOrEmpty(log)) + "; see " + log);
            }
            if (Instant.now().isAfter(deadline)) {
                throw new RewindException("nbdfuse did not show export " + uri + " within " + NBDFUSE_START.toSeconds() + "s; see " + log);
            }
            Commands.sleep(POLL);
        }
        String loop = commands.run(TOOL_TIMEOUT, "losetup", "-f", "--show", fuse.resolve("nbd").toString()).strip();
        if (readOnly) {
            commands.run(TOOL_TIMEOUT, "mount", "-t", "ext4", "-o", "ro", loop, mnt.toString());
        } else {
            commands.run(TOOL_TIMEOUT, "mount", "-t", "ext4", loop, mnt.toString());
        }
    }

    /** Unmounts every member, detaches its loop device and unmounts FUSE, waiting until nbdfuse has exited. */
    public void unmount() throws IOException {
        for (String m : members) {
            Path mnt = mountDirs.get(m);
            Path fuse = workDir.resolve("fuse").resolve(m);
            retry("unmounting " + mnt, () -> !isMountPoint(mnt) || commands.tryRun(TOOL_TIMEOUT, "umount", mnt.toString()).exit() == 0);
            for (String loop : loopsOver(commands, fuse.resolve("nbd"))) {
                commands.run(TOOL_TIMEOUT, "losetup", "-d", loop);
            }
            retry("unmounting " + fuse, () -> !isMountPoint(fuse)
                    || commands.tryRun(TOOL_TIMEOUT, "fusermount3", "-u", fuse.toString()).exit() == 0);
            Path pidFile = workDir.resolve("nbdfuse-" + m + ".pid");
            ProcessHandle nbdfuse = pidOf(pidFile).flatMap(ProcessHandle::of).orElse(null);
            retry("waiting for nbdfuse of " + m + " to exit", () -> nbdfuse == null || !nbdfuse.isAlive());
            Files.deleteIfExists(pidFile);
        }
    }

    /** What {@link #unmount()} does, by force and ignoring failures: lazy unmounts, loops detached, nbdfuse killed. */
    public static void forceUnmount(Path workDir, List<String> members) {
        Commands commands = new Commands(workDir.resolve("mounts.log"));
        for (String m : members) {
            Path mnt = mountDir(workDir, m);
            Path fuse = workDir.resolve("fuse").resolve(m);
            try {
                if (isMountPoint(mnt)) {
                    commands.tryRun(TOOL_TIMEOUT, "umount", "-l", mnt.toString());
                }
                for (String loop : loopsOver(commands, fuse.resolve("nbd"))) {
                    commands.tryRun(TOOL_TIMEOUT, "losetup", "-d", loop);
                }
                if (isMountPoint(fuse)) {
                    commands.tryRun(TOOL_TIMEOUT, "fusermount3", "-u", "-z", fuse.toString());
                }
                Path pidFile = workDir.resolve("nbdfuse-" + m + ".pid");
                pidOf(pidFile).flatMap(ProcessHandle::of).ifPresent(p -> {
                    p.destroyForcibly();
                    p.onExit().join();
                });
                Files.deleteIfExists(pidFile);
            } catch (IOException | RuntimeException e) {
                System.err.println("rewind: cleaning up the mounts of " + mnt + ": " + e.getMessage());
            }
        }
    }

    /** Whether anything of a member under {@code workDir} is still mounted (a daemon that died left it). */
    public static boolean anyMounted(Path workDir, List<String> members) throws IOException {
        for (String m : members) {
            if (isMountPoint(mountDir(workDir, m)) || isMountPoint(workDir.resolve("fuse").resolve(m))) {
                return true;
            }
        }
        return false;
    }

    private static void prepare(Path workDir, Path reachableUpTo) throws IOException {
        Files.createDirectories(workDir.resolve("fuse"));
        Files.createDirectories(workDir.resolve("mnt"));
        Files.setPosixFilePermissions(workDir.resolve("fuse"), PRIVATE);
        Files.setPosixFilePermissions(workDir.resolve("mnt"), REACHABLE);
        Files.setPosixFilePermissions(workDir, TRAVERSE_ONLY);
        Path top = reachableUpTo.toAbsolutePath().normalize();
        for (Path p = workDir.toAbsolutePath().normalize().getParent(); p != null; p = p.getParent()) {
            Set<PosixFilePermission> perms = EnumSet.copyOf(Files.getPosixFilePermissions(p));
            if (p.startsWith(top)) {
                if (perms.add(PosixFilePermission.GROUP_EXECUTE) | perms.add(PosixFilePermission.OTHERS_EXECUTE)) {
                    Files.setPosixFilePermissions(p, perms);
                }
            } else if (!perms.contains(PosixFilePermission.OTHERS_EXECUTE)) {
                throw new RewindException("the database's OS user cannot reach the sandbox's mounts through " + p + " (mode "
                        + PosixFilePermissions.toString(perms) + "); allow it with: chmod o+x " + p);
            }
        }
    }

    static boolean isMountPoint(Path dir) throws IOException {
        String target = dir.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
            String[] f = line.split(" ");
            if (f.length > 4 && unescape(f[4]).equals(target)) {
                return true;
            }
        }
        return false;
    }

    private static String unescape(String mountInfoPath) {
        return mountInfoPath.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    private static List<String> loopsOver(Commands commands, Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        Commands.Result r = commands.tryRun(TOOL_TIMEOUT, "losetup", "-j", file.toString(), "-n", "-O", "NAME");
        return r.exit() != 0 ? List.of() : r.output().lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    private static java.util.Optional<Long> pidOf(Path pidFile) {
        try {
            return Files.exists(pidFile) ? java.util.Optional.of(Long.parseLong(Files.readString(pidFile).strip()))
                    : java.util.Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return java.util.Optional.empty();
        }
    }

    private static String readOrEmpty(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private interface Check {
        boolean done() throws IOException;
    }

    /** Retries {@code check} (a file system a server has just left can be busy for a moment) for a while, then refuses. */
    private void retry(String doing, Check check) throws IOException {
        Instant deadline = Instant.now().plus(UNMOUNT_PATIENCE);
        while (!check.done()) {
            if (Instant.now().isAfter(deadline)) {
                throw new RewindException(doing + " did not succeed within " + UNMOUNT_PATIENCE.toSeconds() + "s; see " + commands.log());
            }
            Commands.sleep(Duration.ofMillis(200));
        }
    }
}
