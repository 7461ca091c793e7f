package dev.rewind.dbadapters.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The line a one-line message quotes, over the output of real failures (PostgreSQL 15, MariaDB 10.11, shell wrappers). */
class ExplainingLineTest {
    /** postgres -D DIR with "work_mem = lots" and "max_connections = 5x" in postgresql.conf. */
    private static final String POSTGRES_BAD_SETTING = """
            2026-12-07 21:21:11.347 UTC [3858] LOG:  invalid value for parameter "work_mem": "lots"
            2026-12-07 21:21:11.347 UTC [3858] LOG:  invalid value for parameter "max_connections": "5x"
            2026-12-07 21:21:11.347 UTC [3858] FATAL:  configuration file "/srv/pgdata/postgresql.conf" contains errors
            """;

    /** A damaged control file found while clients already knock (their FATALs come first). */
    private static final String POSTGRES_RECOVERY_FAILS = """
            2026-11-26 12:33:03.401 UTC [3336] LOG:  starting PostgreSQL 15.10 on x86_64-pc-linux-gnu
            2026-11-26 12:33:03.402 UTC [3336] LOG:  listening on IPv4 address "127.0.0.1", port 40121
            2026-11-26 12:33:03.441 UTC [3340] FATAL:  the database system is starting up
            2026-11-26 12:33:03.460 UTC [3338] FATAL:  incorrect checksum in control file
            2026-11-26 12:33:03.466 UTC [3336] LOG:  startup process (PID 3338) exited with exit code 1
            2026-11-26 12:33:03.466 UTC [3336] LOG:  aborting startup due to startup process failure
            2026-11-26 12:33:03.468 UTC [3336] LOG:  database system is shut down
            """;

    /** mariadbd --innodb-buffer-pool-size=lots. */
    private static final String MARIADB_BAD_OPTION = """
            2026-12-07 21:21:23 0 [Warning] Could not increase number of max_open_files to more than 1024 (request: 32184)
            2026-12-07 21:21:23 0 [Note] Starting MariaDB 10.11.19-MariaDB-0+deb12u1 source revision 5843d84 as process 4299
            2026-12-07 21:21:23 0 [ERROR] Unknown suffix 'l' used for variable 'innodb-buffer-pool-size' (value 'lots'). Legal suffix characters are: K, M, G, T, P, E
            2026-12-07 21:21:23 0 [ERROR] mariadbd: Error while setting value 'lots' to 'innodb-buffer-pool-size'
            2026-12-07 21:21:23 0 [ERROR] Parsing options for plugin 'InnoDB' failed. Disabling plugin
            2026-12-07 21:21:23 0 [Note] Plugin 'FEEDBACK' is disabled.
            2026-12-07 21:21:23 0 [ERROR] Unknown/unsupported storage engine: InnoDB
            2026-12-07 21:21:23 0 [ERROR] Aborting
            """;

    @Test
    void aServerThatRefusesItsConfigurationIsQuotedWithTheBadSettingNotItsLastWords() {
        assertEquals("2026-12-07 21:21:11.347 UTC [3858] FATAL:  configuration file \"/srv/pgdata/postgresql.conf\" contains errors: "
                + "invalid value for parameter \"work_mem\": \"lots\"", ExplainingLine.ofServerLog(POSTGRES_BAD_SETTING));
        assertEquals("2026-12-07 21:21:23 0 [ERROR] Unknown suffix 'l' used for variable 'innodb-buffer-pool-size' (value 'lots'). "
                + "Legal suffix characters are: K, M, G, T, P, E", ExplainingLine.ofServerLog(MARIADB_BAD_OPTION));
    }

    @Test
    void aServerWhoseRecoveryFailsIsQuotedByItsFatalNotByTheClientsItTurnedAway() {
        assertEquals("2026-11-26 12:33:03.460 UTC [3338] FATAL:  incorrect checksum in control file",
                ExplainingLine.ofServerLog(POSTGRES_RECOVERY_FAILS));
    }

    @Test
    void aLogWithoutAFatalLineFallsBackToItsErrorThenToItsTellingLine() {
        assertEquals("2026-12-07 10:00:01.000 UTC [7] ERROR:  relation \"t\" does not exist",
                ExplainingLine.ofServerLog("2026-12-07 10:00:00.000 UTC [7] LOG:  ready\n"
                        + "2026-12-07 10:00:01.000 UTC [7] ERROR:  relation \"t\" does not exist\n2026-12-07 10:00:02.000 UTC [7] LOG:  bye\n"));
        assertEquals("postgres: could not access the server configuration file \"/x/postgresql.conf\": No such file or directory",
                ExplainingLine.ofServerLog("postgres: could not access the server configuration file \"/x/postgresql.conf\": No such file or directory\n"));
        assertEquals("(no output)", ExplainingLine.ofServerLog(""));
    }

    @Test
    void theLineThatSaysWhyAServerGaveUpIsAFatalPanicOrErrorButNotAClientTurnedAway() {
        assertTrue(ExplainingLine.givesUp("2026-11-26 12:33:03.460 UTC [3336] FATAL:  incorrect checksum in control file"));
        assertTrue(ExplainingLine.givesUp("2026-11-26 12:33:03.460 UTC [3336] PANIC:  could not locate a valid checkpoint record"));
        assertTrue(ExplainingLine.givesUp("2026-11-26 12:29:16 0 [ERROR] InnoDB: Missing FILE_CREATE, FILE_DELETE or FILE_MODIFY "
                + "before FILE_CHECKPOINT for tablespace 5"));
        assertFalse(ExplainingLine.givesUp("2026-11-26 12:33:03.441 UTC [3340] FATAL:  the database system is starting up"));
        assertFalse(ExplainingLine.givesUp("2026-11-26 12:33:03.468 UTC [3336] LOG:  database system is shut down"));
        assertFalse(ExplainingLine.givesUp("2026-11-26 12:29:16 0 [Note] InnoDB: Starting shutdown..."));
        assertFalse(ExplainingLine.givesUp("2026-11-26 12:29:16 0 [Warning] Could not increase number of max_open_files"));
    }

    @Test
    void aCommandsOutputIsQuotedByItsLastTellingLineWithItsLastWords() {
        assertEquals("pg_ctl: could not send stop signal (PID: 42): No such process (last: exiting)",
                ExplainingLine.ofCommandOutput("stopping\npg_ctl: could not send stop signal (PID: 42): No such process\nexiting\n"));
        assertEquals("mount: /mnt: wrong fs type, bad option, bad superblock on /dev/loop3.",
                ExplainingLine.ofCommandOutput("mount: /mnt: wrong fs type, bad option, bad superblock on /dev/loop3.\n"));
        assertEquals("done", ExplainingLine.ofCommandOutput("starting\ndone\n"));
    }
}
