package dev.rewind.dbadapters.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class ConnectionPoolTest {

    @Test
    void aMysqlUrlIsOneTheMariaDbDriverServes() throws SQLException {
        String url = ConnectionPool.driverUrl(Engine.MARIADB, "JDBC:MYSQL://127.0.0.1:3306/shop");
        assertEquals("jdbc:mysql://127.0.0.1:3306/shop?permitMysqlScheme", url);
        Driver driver = DriverManager.getDriver(url);
        assertEquals("org.mariadb.jdbc.Driver", driver.getClass().getName());
        assertEquals("jdbc:mysql://h/db?useSsl=false&permitMysqlScheme", ConnectionPool.driverUrl(Engine.MARIADB, "jdbc:mysql://h/db?useSsl=false"));
    }

    @Test
    void otherUrlsAreLeftAsGiven() {
        assertEquals("jdbc:mariadb://h/db", ConnectionPool.driverUrl(Engine.MARIADB, "jdbc:mariadb://h/db"));
        assertEquals("jdbc:mysql://h/db?permitMysqlScheme", ConnectionPool.driverUrl(Engine.MARIADB, "jdbc:mysql://h/db?permitMysqlScheme"));
        assertEquals("jdbc:postgresql://h/db", ConnectionPool.driverUrl(Engine.POSTGRESQL, "jdbc:postgresql://h/db"));
    }
}
