/**
 * The one-page HTML report of an evaluated round ({@code advspark report --html FILE}): a
 * self-contained page (inline CSS, SVG drawn here, images as {@code data:} URIs, nothing fetched)
 * with the leaderboard, a heatmap of success per attack and defended target, success against eps
 * where the round sweeps it, the norms of the written PNGs and a grid of clean / adversarial /
 * perturbation images.
 *
 * <p>The package renders only: {@link io.advspark.report.ReportData} is everything a page shows,
 * read from the round's tables by {@code job.ReportJob} (the one place that knows the columns).
 * Uses score (the leaderboard's cells and metrics) and data (images, PNG encoding); used by job.
 *
 * <p><b>Adding a figure</b>: a method returning a {@link io.advspark.report.HtmlReport.Figure}
 * (an id, a title, the SVG or HTML body and a one-line legend shown under it), added to the list
 * in {@link io.advspark.report.HtmlReport#render}. Anything new it needs goes into
 * {@code ReportData} and is filled by {@code ReportJob}. Draw with {@link io.advspark.report.Svg}
 * (escaping, axes, colours); keep legends outside the plotted data and label axes with units.
 */
package io.advspark.report;
