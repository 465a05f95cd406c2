/**
 * Classifiers and the tensor runtime: TorchScript models with their cards ({@link
 * io.advspark.model.ModelCard}), the weighted surrogate {@link io.advspark.model.Ensemble}, the
 * per-JVM {@link io.advspark.model.ModelCache}, devices and libtorch's threads. Everything DJL- and
 * libtorch-specific stays here: the engine's name ({@link io.advspark.model.TorchRuntime#ENGINE}),
 * tensor managers ({@link io.advspark.model.TorchRuntime#newManager}), top-k scoring.
 *
 * <p>Uses data/ and util/ only. A new model kind (another file format, a model with exposed
 * internals) is a class here that yields a {@link io.advspark.model.Classifier}; the card format is
 * described in docs/models.md.
 */
package io.advspark.model;
