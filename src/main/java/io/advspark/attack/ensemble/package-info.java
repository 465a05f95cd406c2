/**
 * Ensemble strategies ({@code attack.ensemble}, beside the fusions {@code logits}, {@code probs}
 * and {@code losses} of {@link io.advspark.attack.EnsembleMode}): SVRE, CWA, AdaEA, which use
 * each surrogate's own gradient through the engine's batched oracle.
 *
 * <p>A new one is one class here implementing {@link io.advspark.attack.ensemble.EnsembleStrategy},
 * with its {@code public static final Entry} declaration (name, parameters with defaults and
 * ranges, paper); the catalogue finds it, and docs/attack-parts.md is regenerated from it
 * ({@code tools/generate-docs}).
 */
package io.advspark.attack.ensemble;
