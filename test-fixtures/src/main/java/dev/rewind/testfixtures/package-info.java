/**
 * The shared test fixtures of Rewind: one copy of each, used by every module's tests.
 *
 * <pre>
 *  test-fixtures-base  (needs only JUnit; usable by every module's tests, volume-set upwards)
 *    seed.Seeds          the seeds of every seeded test: fixed defaults, printed in the test's
 *                        display name, replayed with -Drewind.seed=N
 *    tools.Tools         real programs for *IT tests: find / require root / run with a timeout;
 *                        missing: skipped on a laptop, failed when CI=true
 *  test-fixtures       (needs lvm-capture's main classes)
 *    nbd.NbdTestClient   the one NBD wire client (production constants of NbdProtocol;
 *                        GO/INFO/LIST, structured replies, every command, raw bytes)
 *    nbd.NbdWire         the bytes a client sends, for raw input and decoder tests
 *    model.ImageModel    the reference model of a set's members
 *    set.TestSet         a set on real files in a temp dir
 * </pre>
 *
 * <p><b>Why two modules, and why lvm-capture compiles these sources into its tests.</b>
 * The fixtures of this module need lvm-capture (CapturedSet, NbdProtocol), and lvm-capture's
 * own tests need the fixtures. A Maven module cannot be both below and above lvm-capture, and
 * a test-jar makes every consumer's build depend on lvm-capture's test compilation (so
 * {@code -Dmaven.test.skip=true} breaks the build). So, as Gradle's {@code java-test-fixtures}
 * does: the sources live once, here; this module compiles them against lvm-capture's main jar
 * for every module above it ({@code <scope>test</scope>}), and lvm-capture adds this directory
 * as a second test source root so that its own tests compile them against its own classes. No
 * build needs another module's test jar. The seed and tools helpers need nothing of Rewind, so
 * they live in {@code test-fixtures-base}, which even volume-set's tests can use.
 */
package dev.rewind.testfixtures;
