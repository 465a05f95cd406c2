package io.advspark.score;

/**
 * What a (defended) target did with one adversarial image, the input of a competition score.
 * Labels in any one convention (all four alike).
 *
 * @param trueLabel the image's label
 * @param targetLabel the manifest's target class
 * @param prediction the target's top-1 on the adversarial image
 * @param linf L-inf of the written perturbation, 0..255
 */
public record Outcome(int trueLabel, int targetLabel, int prediction, int linf) {
    public boolean untargetedSuccess() {
        return prediction != trueLabel;
    }

    public boolean targetedSuccess() {
        return prediction == targetLabel;
    }
}
