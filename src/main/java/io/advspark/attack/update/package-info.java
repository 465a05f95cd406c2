/**
 * Update rules ({@code attack.update}): how a step turns the gradient into a direction and keeps its state (momentum, Nesterov look-ahead, variance tuning).
 *
 * <p>A new one is one class here implementing this package's interface, with its {@code public
 * static final Entry} declaration (name, parameters with defaults and ranges, paper); the catalogue
 * finds it, and docs/attack-parts.md is regenerated from it ({@code tools/generate-docs}).
 */
package io.advspark.attack.update;
