/**
 * The round core, without Spark: what a round is on storage and what happens to one batch.
 *
 * <ul>
 *   <li>{@link io.advspark.round.RoundLayout}: every path of a round (images, records, tables,
 *       marker, lease, quarantine), each checked to lie inside the round; {@link
 *       io.advspark.round.RoundGuard} and {@link io.advspark.round.RoundLease} own the folder
 *       (docs/writes-and-resuming.md).
 *   <li>{@link io.advspark.round.BatchAttacker}: read an image, attack a same-size group, quantise
 *       to 8 bits, encode and write the PNGs, and make the {@link io.advspark.round.AttackRecord}s.
 *   <li>The tables' schemas ({@link io.advspark.round.RecordTables}, {@link
 *       io.advspark.round.EvalTables}) as Spark-free {@link io.advspark.round.TableSchema}s; the
 *       Spark adapter translates them ({@code job.SparkTables}).
 * </ul>
 *
 * <p>Uses plan/ and below; job/ drives it. A new table is a {@code TableSchema} constant here
 * (new columns go at the end) and, for rows built in code, a record with a builder like
 * {@code AttackRecord}.
 */
package io.advspark.round;
