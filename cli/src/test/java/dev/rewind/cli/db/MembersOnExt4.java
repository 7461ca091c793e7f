package dev.rewind.cli.db;

import dev.rewind.testfixtures.tools.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The members of a served set as ext4 file systems, the way a DBA's scripts put them in use:
 * {@code nbdfuse} shows {@code set/MEMBER} as the file {@code <dir>/fuse-MEMBER/nbd}, a loop
 * device over that file is formatted ext4 once and mounted on {@code <dir>/mnt-MEMBER}. This
 * class writes those shell steps (for a database's {@code setup.sh}, {@code start.sh} and
 * {@code stop.sh}) and cleans up by force when a script could not.
 *
 * <pre>
 *   &lt;dir&gt;/fuse-MEMBER/nbd       nbdfuse's view of the member (pid in nbdfuse-MEMBER.pid, log nbdfuse-MEMBER.log)
 *   &lt;dir&gt;/mnt-MEMBER/          the member's ext4, on the loop device over that file
 * </pre>
 *
 * The scripts expect the shell variables {@code DIR} (the dir above) and {@code URI}
 * ({@code nbd+unix:///SET} or {@code nbd://127.0.0.1:PORT/SET}) to be set, and for a Unix
 * socket {@code URI_QUERY} ({@code ?socket=DATA/nbd.sock}), which follows the export name.
 */
final class MembersOnExt4 {
    private final Path dir;
    private final List<String> members;

    MembersOnExt4(Path dir, List<String> members) {
        this.dir = dir;
        this.members = List.copyOf(members);
    }

    Path mountDir(String member) {
        return dir.resolve("mnt-" + member);
    }

    /** A shell function {@code attach MEMBER}: nbdfuse up (if not yet), a loop device over its file in {@code $loop}. */
    static String attachFunction() {
        return """
                # attach MEMBER: nbdfuse shows set/MEMBER as $DIR/fuse-MEMBER/nbd; a loop device over that file in $loop
                attach() {
                  fuse="$DIR/fuse-$1"
                  mkdir -p "$fuse" "$DIR/mnt-$1"
                  if ! mountpoint -q "$fuse"; then
                    rm -f "$DIR/nbdfuse-$1.pid"
                    setsid nbdfuse -P "$DIR/nbdfuse-$1.pid" "$fuse" "$URI/$1${URI_QUERY:-}" </dev/null >>"$DIR/nbdfuse-$1.log" 2>&1 &
                    n=0
                    while [ ! -s "$DIR/nbdfuse-$1.pid" ] || [ ! -e "$fuse/nbd" ]; do
                      n=$((n + 1))
                      if [ "$n" -gt 600 ]; then echo "nbdfuse for $1 did not come up: see $DIR/nbdfuse-$1.log" >&2; exit 1; fi
                      sleep 0.1
                    done
                  fi
                  loop=$(losetup -j "$fuse/nbd" -n -O NAME | head -n 1)
                  [ -n "$loop" ] || loop=$(losetup -f --show "$fuse/nbd")
                }
                """;
    }

    /** Shell steps that format every member ext4 and mount it (once, at setup). */
    String formatAndMount() {
        return attachFunction() + "for m in " + String.join(" ", members) + "; do\n"
                + "  attach \"$m\"\n  mkfs.ext4 -q \"$loop\"\n  mount \"$loop\" \"$DIR/mnt-$m\"\ndone\n";
    }

    /** Shell steps that mount every member's file system (nbdfuse and loop first), skipping what is mounted already. */
    String mount() {
        return attachFunction() + "for m in " + String.join(" ", members) + "; do\n"
                + "  attach \"$m\"\n  mountpoint -q \"$DIR/mnt-$m\" || mount \"$loop\" \"$DIR/mnt-$m\"\ndone\n";
    }

    /** Shell steps that unmount every member, detach its loop devices and unmount FUSE, waiting until nbdfuse has exited. */
    String unmount() {
        return "for m in " + String.join(" ", members) + "; do\n" + """
                  fuse="$DIR/fuse-$m"
                  n=0
                  while mountpoint -q "$DIR/mnt-$m" && ! umount "$DIR/mnt-$m"; do
                    n=$((n + 1))
                    if [ "$n" -gt 50 ]; then echo "cannot unmount $DIR/mnt-$m" >&2; exit 1; fi
                    sleep 0.2 # a file system a server has just left can be busy for a moment
                  done
                  if [ -e "$fuse/nbd" ]; then
                    for loop in $(losetup -j "$fuse/nbd" -n -O NAME); do losetup -d "$loop"; done
                  fi
                  n=0
                  while mountpoint -q "$fuse" && ! fusermount3 -u "$fuse" 2>/dev/null; do
                    n=$((n + 1))
                    if [ "$n" -gt 100 ]; then echo "cannot unmount $fuse" >&2; exit 1; fi
                    sleep 0.1
                  done
                  if [ -s "$DIR/nbdfuse-$m.pid" ]; then
                    pid=$(cat "$DIR/nbdfuse-$m.pid")
                    n=0
                    while kill -0 "$pid" 2>/dev/null; do
                      n=$((n + 1))
                      if [ "$n" -gt 300 ]; then echo "nbdfuse $pid for $m does not exit" >&2; exit 1; fi
                      sleep 0.1
                    done
                    rm -f "$DIR/nbdfuse-$m.pid"
                  fi
                done
                """;
    }

    /** What {@link #unmount()} does, by force and ignoring failures: lazy unmounts, loops detached, nbdfuse killed. */
    void forceUnmount() {
        Duration t = Duration.ofMinutes(1);
        for (String m : members) {
            Path mnt = mountDir(m);
            Path fuse = dir.resolve("fuse-" + m);
            if (Tools.run(t, "mountpoint", "-q", mnt.toString()).exit() == 0) {
                Tools.run(t, "umount", "-l", mnt.toString());
            }
            if (Files.exists(fuse.resolve("nbd"))) {
                for (String loop : Tools.run(t, "losetup", "-j", fuse.resolve("nbd").toString(), "-n", "-O", "NAME").out().strip().split("\\s+")) {
                    if (!loop.isEmpty()) {
                        Tools.run(t, "losetup", "-d", loop);
                    }
                }
            }
            if (Tools.run(t, "mountpoint", "-q", fuse.toString()).exit() == 0) {
                Tools.run(t, "fusermount3", "-u", "-z", fuse.toString());
            }
            Path pidFile = dir.resolve("nbdfuse-" + m + ".pid");
            try {
                if (Files.exists(pidFile)) {
                    ProcessHandle.of(Long.parseLong(Files.readString(pidFile).strip())).ifPresent(ProcessHandle::destroyForcibly);
                }
            } catch (IOException | NumberFormatException e) {
                System.err.println("MembersOnExt4: cannot read " + pidFile + ": " + e);
            }
        }
    }

    /** Skips (fails in CI) unless root, FUSE, nbdfuse, util-linux's tools and e2fsprogs are here. */
    static void requireTools() {
        Tools.requireRoot("loop devices and mount");
        for (String[] tool : new String[][] {{"nbdfuse", "nbdfuse"}, {"fusermount3", "fuse3"}, {"losetup", "mount"}, {"mount", "mount"},
                {"umount", "mount"}, {"mountpoint", "util-linux"}, {"setsid", "util-linux"}, {"mkfs.ext4", "e2fsprogs"}}) {
            Tools.requireTool(tool[0], tool[1]);
        }
        if (!Files.exists(Path.of("/dev/fuse"))) {
            Tools.unavailable("/dev/fuse does not exist: FUSE is not available here");
        }
    }
}
