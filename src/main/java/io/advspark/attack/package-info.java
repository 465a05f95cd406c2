/**
 * The attack engine, without Spark: an {@link io.advspark.attack.Attack} is a composition of
 * parts (update rule, loss, start, input and gradient transforms, perturbation filter, model
 * augmentations, ensemble mode) plus its budget, and {@link io.advspark.attack.AttackEngine} runs
 * it on a batch against an ensemble, with per-image random streams ({@link
 * io.advspark.attack.Draws}), 8-bit quantisation ({@link io.advspark.attack.Quantizer}) and early
 * exit ({@link io.advspark.attack.StopCheck}: images leave the batch, so every state array a part
 * carries across steps is per image along axis 0).
 *
 * <p>Each kind of part has its subpackage and interface. A new part is one class there with its
 * {@code public static final Entry} declaration (docs/architecture.md; the pages list in
 * docs/attack-parts.md), plus a teacher-forced parity test against an independent PyTorch
 * implementation. Uses model, data and vocabulary only.
 */
package io.advspark.attack;
