/** x509 certificates made for a test with openssl, in the directory layouts of the NBD servers and clients that use TLS. */
package dev.rewind.testfixtures.tls;
