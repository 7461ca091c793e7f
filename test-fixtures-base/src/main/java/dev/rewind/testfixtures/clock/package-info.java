/** A clock tests move by hand, shared by every module's tests. */
package dev.rewind.testfixtures.clock;
