package io.advspark.attack.ensemble;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.Ensembling;
import io.advspark.attack.StepContext;
import io.advspark.attack.update.GradientOracle;
import io.advspark.attack.update.UpdateRule;

/**
 * An ensemble strategy: instead of fusing the surrogates' outputs before one loss, it asks for
 * each member's gradient ({@link GradientOracle#perMember}, {@link GradientOracle#ofMembers},
 * {@link GradientOracle#weighted}, {@link GradientOracle#losses}) and makes the gradient the
 * update rule then uses (MI-FGSM in the papers and in TransferAttack). The engine computes the
 * logit ensemble's gradient at the rule's gradient point first, as for every attack, and hands
 * it in; the strategy's result goes to {@link UpdateRule#direction} in its place and is reported
 * to observers as the extra state {@code ensemble_grad}. Draws come from {@code ctx.draws()},
 * each image's from its own stream, in the order the strategy's Javadoc states.
 */
public interface EnsembleStrategy extends Ensembling {
    /** The extra-state name under which observers see the strategy's gradient. */
    String GRADIENT = "ensemble_grad";

    /** Fresh per-batch state (arrays carried across steps), or null for a stateless strategy. */
    default UpdateRule.State start(NDArray clean, NDManager manager) {
        return null;
    }

    /**
     * The gradient the update rule uses at {@code point}.
     *
     * @param point where the engine took the ensemble gradient (the rule's gradient point)
     * @param ensembleGradient the logit ensemble's gradient there (input and gradient transforms applied)
     * @param state this strategy's state from {@link #start}, or null
     * @param ctx the step
     * @param oracle gradients, per member or fused, at any points
     */
    NDArray gradient(NDArray point, NDArray ensembleGradient, UpdateRule.State state, StepContext ctx,
            GradientOracle oracle);
}
