package io.advspark.attack.filter;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.Kernels;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * Gaussian low-pass of the perturbation, in the spirit of low-frequency attacks (Sharma, Ding and
 * Brubaker, "On the Effectiveness of Low Frequency Perturbations", IJCAI 2019; Guo, Frank and
 * Weinberger, "Low Frequency Adversarial Perturbation", UAI 2019), which restrict the
 * perturbation with a DCT mask ({@link DctFilter}); this is the smooth alternative.
 *
 * <p>Definition: each channel of delta is convolved (stride 1) with the kernel
 * {@code k(i, j) = g(i) g(j) / (sum_i g(i))^2}, {@code g(i) = exp(-i^2 / (2 sigma^2))} for
 * integers {@code |i| <= r = ceil(3 sigma)} (side {@code 2r + 1}; built in float64 and rounded
 * to float32 once, {@link Kernels#gaussianPixels}), with zero padding {@code r}: the output has
 * delta's size, and within {@code r} pixels of the border only the in-image weights contribute
 * (not renormalised, so the border is attenuated). {@code sigma} is a pixel standard deviation
 * (unlike TI's {@code nsig}). The weights are non-negative and sum to 1, so
 * {@code max|F(delta)| <= max|delta|}.
 *
 * <p>The engine applies F once, to a latent perturbation, and differentiates through it
 * ({@link io.advspark.attack.AttackEngine}). Measured (MI, eps 8, 10 steps, 50 CIFAR-10 images,
 * white box on ResNet-20 + ResNet-32, 100 % unfiltered; docs/perturbation-filters.md): a low
 * pass costs white-box success on 32 x 32 images by itself, more the wider it is, because these
 * ResNets are most sensitive to high frequencies that F removes; sigma 0.5 to 1 keeps most of it,
 * sigma 2 leaves a small minority. Default sigma 1. Spec {@code gaussian(sigma=1)}.
 */
public record GaussianFilter(double sigma) implements PerturbationFilter {
    public static final Entry<GaussianFilter> DECLARATION = Entry.of(Kind.FILTER, "gaussian", GaussianFilter.class)
            .summary("Gaussian low-pass of a latent perturbation, applied once: the round writes clip(x + F(z - x))")
            .paper("Sharma, Ding and Brubaker, \"On the Effectiveness of Low Frequency Perturbations\", IJCAI 2019")
            .param(Param.dbl("sigma", 1, 1e-3, 50,
                    "pixel standard deviation; radius ceil(3 sigma), zero padding"))
            .build(s -> new GaussianFilter(s.dbl("sigma")));

    @Override
    public NDArray apply(NDArray delta, StepContext ctx) {
        return Kernels.depthwise(delta, Kernels.gaussianPixels(sigma));
    }
}
