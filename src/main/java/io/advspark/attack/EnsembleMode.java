package io.advspark.attack;

/**
 * How the surrogates' outputs are combined before (or after) the loss.
 *
 * <ul>
 *   <li>{@code logits}: loss of the weighted sum of logits (Dong et al. 2018, eq. 6; the
 *       default and the best transfer in their study);
 *   <li>{@code probs}: loss of the log of the weighted mean of softmax probabilities
 *       (Liu et al., ICLR 2017);
 *   <li>{@code losses}: weighted sum of per-model losses.
 * </ul>
 */
public enum EnsembleMode {
    LOGITS,
    PROBS,
    LOSSES;

    public String spec() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
