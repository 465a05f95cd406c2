package io.advspark.attack;

import io.advspark.vocabulary.Catalogue;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;

/**
 * How the surrogates' outputs are combined before (or after) the loss; each mode is a catalogue
 * entry of kind {@link Kind#ENSEMBLE} (docs/attack-parts.md).
 */
public enum EnsembleMode implements Ensembling {
    LOGITS,
    PROBS,
    LOSSES;

    public static final Entry<EnsembleMode> LOGITS_ENTRY = Entry.of(Kind.ENSEMBLE, "logits", EnsembleMode.class)
            .summary("Loss of the weighted sum of the surrogates' logits (the default and the best transfer in the study)")
            .paper("Dong et al., \"Boosting Adversarial Attacks with Momentum\", CVPR 2018 (eq. 6)")
            .describes(m -> m == LOGITS)
            .build(s -> LOGITS);

    public static final Entry<EnsembleMode> PROBS_ENTRY = Entry.of(Kind.ENSEMBLE, "probs", EnsembleMode.class)
            .summary("Loss of the log of the weighted mean of the surrogates' softmax probabilities")
            .paper("Liu et al., \"Delving into Transferable Adversarial Examples and Black-box Attacks\", ICLR 2017")
            .describes(m -> m == PROBS)
            .build(s -> PROBS);

    public static final Entry<EnsembleMode> LOSSES_ENTRY = Entry.of(Kind.ENSEMBLE, "losses", EnsembleMode.class)
            .summary("Weighted sum of the per-surrogate losses")
            .paper("Dong et al., \"Boosting Adversarial Attacks with Momentum\", CVPR 2018 (compared there)")
            .describes(m -> m == LOSSES)
            .build(s -> LOSSES);

    /** The mode's spec: {@code logits}, {@code probs} or {@code losses}. */
    @Override
    public String spec() {
        return Catalogue.render(this);
    }
}
