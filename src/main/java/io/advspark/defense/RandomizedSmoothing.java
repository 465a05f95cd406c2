package io.advspark.defense;

import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * Randomized smoothing as a defense, the prediction of Cohen, Rosenfeld and Kolter, "Certified
 * Adversarial Robustness via Randomized Smoothing", ICML 2019 (its PREDICT, without the abstention
 * test): the smoothed classifier answers the class the rest of the chain (purifiers after this
 * stage, then the target model) predicts most often over {@code samples} copies of the image, each
 * with independent Gaussian noise N(0, sigma^2) added to every pixel on the [0,1] scale (not
 * clipped, as in Cohen's code). The vote's top-5 (ties to the lower label) is the prediction, and
 * {@code (count of the top class - count of the runner-up) / samples} its margin
 * ({@code vote_margin} columns).
 *
 * <p>The noise is drawn in Java from the image's seeded stream ({@code java.util.Random#nextGaussian},
 * copy by copy, channel-major like the tensor), after any draws of the chain's image stages, so an
 * image's vote does not depend on its batch or partition, and its clean and adversarial versions
 * see the same noise. Defaults follow TransferAttack's benchmark ({@code defense/rs_defense.sh}:
 * sigma 0.50, N 1000, the setting of Cohen's ImageNet {@code predict.py} example); TransferAttack's
 * base classifier is Cohen's noise-trained ResNet-50, which a round brings as the target model.
 */
public record RandomizedSmoothing(double sigma, int samples) implements TensorDefense {
    public static final Entry<RandomizedSmoothing> DECLARATION = Entry.of(Kind.DEFENSE, "rs", RandomizedSmoothing.class)
            .summary("Randomized smoothing: majority vote of the model over Gaussian-noised copies of the image"
                    + " (noise drawn per image in Java); the vote margin goes to the predictions table")
            .paper("Cohen, Rosenfeld and Kolter, \"Certified Adversarial Robustness via Randomized Smoothing\", ICML 2019"
                    + " (PREDICT; defaults of TransferAttack's defense/rs_defense.sh)")
            .param(Param.dbl("sigma", 0.5, 0.0, 10.0,
                    "standard deviation of the noise on the [0,1] pixel scale"))
            .param(Param.integer("n", 1000, 1, 1_000_000,
                    "noisy copies voted over per image").from("samples"))
            .randomised()
            .build(s -> new RandomizedSmoothing(s.dbl("sigma"), s.integer("n")));
}
