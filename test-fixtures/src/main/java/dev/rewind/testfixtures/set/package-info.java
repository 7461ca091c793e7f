/** A production volume set on real files in a temp directory: {@link dev.rewind.testfixtures.set.TestSet}. */
package dev.rewind.testfixtures.set;
