package io.advspark.attack.update;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * EMI-FGSM, enhanced momentum (Wang, Lin, Hu, Wang and He, "Boosting Adversarial Transferability
 * through Enhanced Momentum", BMVC 2021, arXiv 2103.10609): the gradient of a step is the average
 * over N points sampled along the previous step's average gradient, then MI's momentum:
 *
 * <pre>
 *   c_i      = eta (2 i / (N - 1) - 1),  i = 0..N-1       (linear sampling, the paper's best)
 *   x_t[i]   = x_t + c_i alpha gbar_{t-1} / mean|gbar_{t-1}|   (gbar_{-1} = 0: every point is x_t)
 *   gbar_t   = (1/N) sum_i grad J(x_t[i])
 *   m_{t+1}  = mu m_t + gbar_t / mean|gbar_t| ;  direction sign(m_{t+1})
 * </pre>
 *
 * Defaults N = 11, eta = 7, mu = 1.0: the paper's settings, as in its official code
 * (JHL-HUST/EMI {@code emi_fgsm.py}: {@code sampling_number 11}, {@code sampling_interval 7},
 * {@code momentum 1.0}) and in TransferAttack's {@code emifgsm.py}. The direction offset is
 * {@code alpha} times the previous average normalised by its per-image mean absolute value, as in
 * both codes (the normalised average is what the official code carries to the next step). mean|.|
 * is per image, floored at 1e-12 (a zero average gives offsets of zero, not NaN).
 *
 * <p>TransferAttack declares uniform and Gaussian sampling too but always samples linearly (its
 * {@code transform} ignores {@code sample_method}); this rule samples linearly only and draws no
 * random numbers of its own.
 *
 * <p>Points and draws: with N odd the middle coefficient is exactly 0, and the point x_t itself is
 * the step's own gradient point: the engine's gradient there (taken first, consuming the input
 * transforms' draws for that point) is that sample's gradient. The other points, in increasing
 * c_i, go to the oracle in ONE {@link GradientOracle#at(List)} call, whose input-transform draws
 * are consumed point by point in that order. With N even no coefficient is 0: all N points go to
 * the oracle and the engine's gradient at x_t only feeds the observers. The previous average is
 * extra state, {@code extras()} key {@code average} (absent before the first step).
 *
 * @param decay mu
 * @param samples N, points per step
 * @param eta half-width of the coefficients' interval, in steps of alpha
 */
public record EnhancedMomentum(double decay, int samples, double eta) implements UpdateRule {
    public static final Entry<EnhancedMomentum> EMI = Entry.of(Kind.UPDATE, "emi", EnhancedMomentum.class)
            .summary("Enhanced momentum: MI on the average gradient of n points x + c alpha gbar' along the previous"
                    + " average gbar' (normalised), c linear in [-eta, eta]")
            .paper("Wang et al., \"Boosting Adversarial Transferability through Enhanced Momentum\", BMVC 2021")
            .param(Param.dbl("decay", 1.0, 0, 100, "momentum decay mu: m = mu m + gbar / mean abs(gbar) per image")
                    .style(Param.Style.INTEGRAL))
            .param(Param.integer("n", 11, 2, 1000, "points sampled per step (n odd: the iterate itself is one)")
                    .from("samples"))
            .param(Param.dbl("eta", 7.0, 0, 100,
                    "coefficients c linear in [-eta, eta]; point x + c alpha gbar / mean abs(gbar)")
                    .style(Param.Style.INTEGRAL))
            .build(s -> new EnhancedMomentum(s.dbl("decay"), s.integer("n"), s.dbl("eta")));

    static final String AVERAGE = "average";

    public EnhancedMomentum {
        if (samples < 2) {
            throw new IllegalArgumentException("emi needs n >= 2 points, got " + samples);
        }
    }

    /**
     * The sampling coefficient c_i, written so that the middle one of an odd N is exactly 0
     * ({@code 2i / (N - 1)} is then exactly 1; numpy's linspace can miss 0 by an ulp).
     */
    double coefficient(int i) {
        return eta * (2.0 * i / (samples - 1) - 1.0);
    }

    @Override
    public UpdateRule.State start(NDArray clean, NDManager manager) {
        return new S(manager.zeros(clean.getShape(), clean.getDataType()));
    }

    @Override
    public int points() {
        return samples;
    }

    @Override
    public NDArray direction(NDArray grad, UpdateRule.State state, StepContext ctx, GradientOracle oracle) {
        S s = (S) state;
        NDManager scratch = grad.getManager();
        // The point of the step is x_t itself (gradientPoint's default), so grad is the c = 0 sample.
        NDArray x = s.current;
        NDArray prev = s.average == null ? null : scratchAlias(s.average, scratch);
        NDArray unit = prev == null ? null : prev.div(Momentum.meanAbs(prev));
        List<NDArray> points = new ArrayList<>(samples);
        int middle = -1;
        for (int i = 0; i < samples; i++) {
            double c = coefficient(i);
            if (c == 0) {
                middle = i;
            } else {
                // Before the first average every point is x_t (the oracle never writes into a point).
                points.add(unit == null ? x : unit.mul((float) (c * ctx.alpha01())).add(x));
            }
        }
        List<NDArray> grads = oracle.at(points);
        NDArray sum = null;
        int next = 0;
        for (int i = 0; i < samples; i++) {
            NDArray gi = i == middle ? grad : grads.get(next++);
            sum = sum == null ? gi : sum.add(gi);
        }
        NDArray average = sum.div((float) samples);
        NDArray m = scratchAlias(s.m, scratch).mul((float) decay).add(average.div(Momentum.meanAbs(average)));
        s.m = m;
        s.average = average;
        return m.sign();
    }

    @Override
    public NDArray gradientPoint(NDArray x, UpdateRule.State state, StepContext ctx) {
        ((S) state).current = x;
        return x;
    }


    /**
     * A view of a state array owned by {@code scratch}, so that results computed from it (which
     * belong to their first operand's manager) are freed with the step instead of piling up in the
     * batch's manager. The storage is shared; closing the view leaves the state array intact.
     */
    static NDArray scratchAlias(NDArray a, NDManager scratch) {
        NDArray v = a.stopGradient();
        v.attach(scratch);
        return v;
    }

    /** Momentum, the previous step's average gradient, and the iterate of this step. */
    static final class S implements UpdateRule.State {
        NDArray m;
        NDArray average;
        NDArray current;

        S(NDArray m) {
            this.m = m;
        }

        @Override
        public NDArray momentum() {
            return m;
        }

        @Override
        public Map<String, NDArray> extras() {
            return average == null ? Map.of() : Map.of(AVERAGE, average);
        }

        @Override
        public void select(java.util.function.UnaryOperator<NDArray> rows) {
            m = rows.apply(m);
            average = average == null ? null : rows.apply(average);
        }

        @Override
        public void attach(NDManager manager) {
            m.attach(manager);
            if (average != null) {
                average.attach(manager);
            }
        }
    }
}
