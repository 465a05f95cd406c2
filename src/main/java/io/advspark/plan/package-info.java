/**
 * The round plan: {@link io.advspark.plan.ConfigLoader} reads HOCON (reference.conf, the user's
 * file, {@code --set} overrides), checks every key and value, parses every spec once and assembles
 * a typed, serialisable {@link io.advspark.plan.RoundConfig}: dataset, models with their roles and
 * defended variants ({@link io.advspark.plan.ModelSpec}), the attack configurations ({@link
 * io.advspark.plan.AttackConfig}, which builds its {@code Attack}), score, device and Spark
 * settings, and the score-aware settings ({@link io.advspark.plan.ScoreAware}: early exit, budget
 * search, their stopping sets and the search's walk). Every error names the key.
 *
 * <p>Uses attack, defense, score and below; the round core and the jobs receive the plan and never
 * read configuration text. A new key is a line in reference.conf (with its comment) and its check
 * here; build test plans with {@code AttackConfig.builder()} rather than positional constructors.
 */
package io.advspark.plan;
