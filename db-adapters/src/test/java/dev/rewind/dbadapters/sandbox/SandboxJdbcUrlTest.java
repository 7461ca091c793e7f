package dev.rewind.dbadapters.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SandboxJdbcUrlTest {

    @Test
    void hostAndPortAreReplacedParametersStay() {
        assertEquals("jdbc:postgresql://127.0.0.1:40123/shop?sslmode=disable",
                SandboxJdbcUrl.onLoopback("jdbc:postgresql://db.example:5432/shop?sslmode=disable", 40123));
        assertEquals("jdbc:mariadb://127.0.0.1:3307/bank", SandboxJdbcUrl.onLoopback("jdbc:mariadb://10.0.0.5/bank", 3307));
        assertEquals("jdbc:postgresql://127.0.0.1:5/", SandboxJdbcUrl.onLoopback("jdbc:postgresql://a:1,b:2/", 5));
    }

    @Test
    void aUrlWithoutHostGetsTheLoopbackOne() {
        assertEquals("jdbc:postgresql://127.0.0.1:6000/shop", SandboxJdbcUrl.onLoopback("jdbc:postgresql:shop", 6000));
    }

    @Test
    void databaseNameIsThePathWithoutParameters() {
        assertEquals("shop", SandboxJdbcUrl.databaseName("jdbc:postgresql://127.0.0.1:1/shop?x=y"));
        assertEquals("", SandboxJdbcUrl.databaseName("jdbc:mariadb://127.0.0.1:1"));
    }
}
