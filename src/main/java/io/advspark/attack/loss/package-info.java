/**
 * Losses ({@code attack.loss}) ascended by the attack over the ensemble's output (cross-entropy, logit, margin, Poincare triplet),
 * and the feature-level losses on the surrogates' taps ({@link io.advspark.attack.loss.FeatureLoss}: ILA, FIA, NAA, ILPD),
 * whose per-attack and per-step state the engine prepares ({@code prepare}, {@code prepareStep}).
 *
 * <p>A new one is one class here implementing this package's interface, with its {@code public
 * static final Entry} declaration (name, parameters with defaults and ranges, paper); the catalogue
 * finds it, and docs/attack-parts.md is regenerated from it ({@code tools/generate-docs}).
 */
package io.advspark.attack.loss;
