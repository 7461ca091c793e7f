/**
 * What a set's history keeps, and the fading out of the rest: a {@link
 * dev.rewind.increments.retention.RetentionPolicy} says which points stay, a {@link
 * dev.rewind.increments.retention.RetentionPlan} applies it to the transactions on hand (with
 * the points that bookmarks, sandboxes and readers pin), and {@link
 * dev.rewind.increments.retention.Retention} carries a plan out: adjacent transactions between
 * two kept points are merged into one, the oldest that no point needs are dropped, and their
 * space is freed, crash-safe like a cut.
 */
package dev.rewind.increments.retention;
