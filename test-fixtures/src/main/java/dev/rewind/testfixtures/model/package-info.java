/** The reference model tests compare a set with: {@link dev.rewind.testfixtures.model.ImageModel}. */
package dev.rewind.testfixtures.model;
