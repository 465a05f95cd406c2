package io.advspark.attack.gradient;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.Kernels;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * TI, translation-invariant attack (Dong, Pang, Su and Zhu, "Evading Defenses to Transferable
 * Adversarial Examples by Translation-Invariant Attacks", CVPR 2019): the input gradient is
 * convolved, channel by channel, with a normalised kernel (stride 1, zero padding size/2), which
 * approximates the gradient over an ensemble of translated images.
 *
 * <p>Kernels, as in the official code and TransferAttack ({@link Kernels}):
 * <ul>
 *   <li>{@code gaussian}: {@code gkern(size, nsig)}: the standard normal density at
 *       {@code linspace(-sigma, sigma, size)}, outer product, normalised; so {@code sigma} is the
 *       official {@code nsig}, the kernel's half-width in standard deviations (pixel std
 *       {@code (size-1)/(2 sigma)}), not a pixel std;
 *   <li>{@code uniform}: box {@code 1/size^2};
 *   <li>{@code linear}: triangle (TransferAttack's {@code lkern}).
 * </ul>
 *
 * Published defaults: Gaussian, size 15, nsig 3 (TI-DIM, TransferAttack's TIM); SI-NI-TI-DIM uses
 * size 7. Spec {@code ti(kernel=gaussian, size=15, sigma=3)}.
 */
public record TranslationInvariant(String kernel, int size, double sigma) implements GradientTransform {
    public static final Entry<TranslationInvariant> DECLARATION = Entry.of(Kind.GRADIENT, "ti", TranslationInvariant.class)
            .summary("Translation invariance: the gradient is convolved depthwise with a smoothing kernel (zero padding)")
            .paper("Dong et al., \"Evading Defenses to Transferable Adversarial Examples by Translation-Invariant Attacks\", CVPR 2019")
            .param(Param.choice("kernel", "gaussian", "kernel shape: gaussian (the official gkern), uniform box or linear triangle",
                    "gaussian", "uniform", "linear"))
            .param(Param.integer("size", 15, 1, 101,
                    "kernel side in pixels"))
            .param(Param.dbl("sigma", 3, 1e-3, 100,
                    "the Gaussian kernel's nsig (gkern)"))
            .build(s -> new TranslationInvariant(s.choice("kernel"), s.integer("size"), s.dbl("sigma")));

    public TranslationInvariant {
        if (size < 1 || size % 2 == 0) {
            throw new IllegalArgumentException("ti: size must be odd and >= 1, got " + size);
        }
    }

    public float[] weights() {
        return switch (kernel) {
            case "gaussian" -> Kernels.gkern(size, sigma);
            case "uniform" -> Kernels.ukern(size);
            case "linear" -> Kernels.lkern(size);
            default -> throw new IllegalArgumentException("ti: unknown kernel " + kernel);
        };
    }

    @Override
    public NDArray apply(NDArray grad, StepContext ctx) {
        return Kernels.depthwise(grad, weights());
    }
}
