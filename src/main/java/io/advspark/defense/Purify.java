package io.advspark.defense;

import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.function.UnaryOperator;

/**
 * Input purification by a network: a TorchScript image-to-image model (NRP, Naseer et al., "A
 * Self-supervised Approach for Adversarial Robustness", CVPR 2020; a diffusion purifier such as
 * DiffPure, Nie et al., ICML 2022, exported by the user; an HGD-style denoiser, Liao et al., CVPR
 * 2018) runs on the [0,1] float image, shape {@code [N,3,H,W]}, and its output, of the same shape
 * and in [0,1], goes on to the rest of the chain. The file is read like a model (any storage URI,
 * a plain path made absolute at configuration load) and refused when the round loads if its output's
 * shape or range does not match its input ({@code model.Purifier}). Its output is not rounded to 8
 * bits (TransferAttack's NRP script saves purified PNGs; a round scores the float output).
 *
 * @param path the TorchScript file
 */
public record Purify(String path) implements TensorDefense {
    public static final Entry<Purify> DECLARATION = Entry.of(Kind.DEFENSE, "purify", Purify.class)
            .summary("A TorchScript image-to-image purifier (NRP, a diffusion purifier, a denoiser) run on the"
                    + " [0,1] image before the model; output shape and range are checked when the round loads")
            .paper("Naseer et al., \"A Self-supervised Approach for Adversarial Robustness\" (NRP), CVPR 2020;"
                    + " Nie et al., \"Diffusion Models for Adversarial Purification\", ICML 2022; Liao et al., HGD, CVPR 2018")
            .param(Param.text("path", "s3a://bucket/models/nrp.pt",
                    "TorchScript file, any storage URI; a plain path is made absolute like a model's"))
            .build(s -> new Purify(s.text("path")));

    /** The same stage with its path resolved (the configuration loader makes it absolute). */
    Purify resolved(UnaryOperator<String> resolve) {
        return new Purify(resolve.apply(path));
    }
}
