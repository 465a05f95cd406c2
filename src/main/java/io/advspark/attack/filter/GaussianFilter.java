package io.advspark.attack.filter;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.Kernels;
import io.advspark.attack.StepContext;
import java.util.Locale;

/**
 * Gaussian low-pass of the perturbation: after each step delta is convolved per channel with a
 * normalised Gaussian of pixel standard deviation {@code sigma} (radius ceil(3 sigma), zero
 * padding), in the spirit of low-frequency attacks (Sharma, Ding and Brubaker, "On the
 * Effectiveness of Low Frequency Perturbations", IJCAI 2019; Guo, Frank and Weinberger,
 * "Low Frequency Adversarial Perturbation", UAI 2019). Default sigma 1. Spec
 * {@code gaussian(sigma=1)}.
 */
public record GaussianFilter(double sigma) implements PerturbationFilter {
    @Override
    public NDArray apply(NDArray delta, StepContext ctx) {
        return Kernels.depthwise(delta, Kernels.gaussianPixels(sigma));
    }

    @Override
    public String spec() {
        return String.format(Locale.ROOT, "gaussian(sigma=%s)", sigma);
    }
}
