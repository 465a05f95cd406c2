/**
 * The Spark adapters: the driver side of {@code attack}, {@code evaluate}, {@code report} and the
 * device probe (partitioning the work, broadcasting the models, accumulators, listeners, progress,
 * Parquet table writes and the resume scan), and the executor functions that feed the Spark-free
 * round core ({@code round.BatchAttacker}, {@code TargetScorer}); the budget search's waves
 * ({@code SearchWaves}) and the work list of someone else's PNGs ({@code ForeignImages}). What
 * answers from the tables without a Spark session also lives here: the leaderboard and its HTML
 * page ({@code ReportJob}, {@code HtmlReportJob}) and a finished round's rerun
 * ({@code FinishedRound}, {@code EvaluationStamp}).
 *
 * <p>Spark appears only here and in cli/ (checked by {@code LayersTest}). A job receives the typed
 * round plan and never parses a spec string. A new job is a class with a static {@code run} taking
 * the plan and a {@code SparkSession}, wired to a command in {@code cli.Main}; its work per image
 * belongs in round/ so that it can be tested without Spark.
 */
package io.advspark.job;
