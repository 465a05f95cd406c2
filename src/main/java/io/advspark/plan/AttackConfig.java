package io.advspark.plan;

import io.advspark.attack.Attack;
import io.advspark.attack.EnsembleMode;
import io.advspark.attack.Ensembling;
import io.advspark.attack.augment.ModelAugmentation;
import io.advspark.attack.filter.PerturbationFilter;
import io.advspark.attack.gradient.GradientTransform;
import io.advspark.attack.init.Initializer;
import io.advspark.attack.init.UniformInit;
import io.advspark.attack.init.ZeroInit;
import io.advspark.attack.input.InputTransform;
import io.advspark.attack.loss.CrossEntropy;
import io.advspark.attack.loss.Loss;
import io.advspark.attack.update.Momentum;
import io.advspark.attack.update.UpdateRule;
import io.advspark.vocabulary.Catalogue;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.PartSpec;
import io.advspark.vocabulary.Spec;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The attack of a round, typed: every part is a parsed {@link Spec} (parsed once, at load), so
 * the driver and the executors build the parts from values and never read spec text again.
 * Pixel-valued settings are in 0..255 units; the engine converts them to the [0,1] scale it works
 * in. Tests and notebooks make one with {@link #builder()}.
 *
 * @param epsPixels L-inf budget in 0..255 units
 * @param steps number of iterations
 * @param stepSizePixels step in 0..255 units (already resolved: never 0)
 * @param decay MI-FGSM momentum decay, used when {@code update} is null
 * @param objective untargeted, targeted or weighted
 * @param untargetedWeight weight of CE(true label), ascended
 * @param targetedWeight weight of CE(target label), descended
 * @param update the update rule, or null for {@code mi(decay)}
 * @param inputs input transforms, applied in order
 * @param gradients gradient transforms, applied in order
 * @param loss the loss, or null for the CE given by {@code objective}
 * @param init the start
 * @param filter the perturbation filter, or null for none
 * @param ensemble how surrogate outputs combine
 * @param copies independent draws of the input transforms per step
 * @param augment model augmentations (e.g. dropout inside the surrogates)
 * @param stop early exit ({@code attack.stop}), or null to run every step
 * @param search per-image budget search ({@code attack.search}), or null for the one budget
 *     {@code epsPixels}; when set, {@code epsPixels} is its largest budget
 * @param metTopK how {@code stop} and {@code search} judge an untargeted image: met when its true
 *     label is outside the stopping set's top {@code metTopK} (1: fooled)
 */
public record AttackConfig(
        double epsPixels,
        int steps,
        double stepSizePixels,
        double decay,
        Objective objective,
        double untargetedWeight,
        double targetedWeight,
        Spec update,
        List<Spec> inputs,
        List<Spec> gradients,
        Spec loss,
        Spec init,
        Spec filter,
        Ensembling ensemble,
        int copies,
        List<Spec> augment,
        ScoreAware.Stop stop,
        ScoreAware.Search search,
        int metTopK)
        implements Serializable {

    public AttackConfig {
        if (metTopK < 1 || metTopK > 5) {
            throw new IllegalArgumentException("met-top-k must be in 1..5, got " + metTopK);
        }
        inputs = List.copyOf(inputs);
        gradients = List.copyOf(gradients);
        augment = List.copyOf(augment);
    }

    /**
     * What the round's identity adds to the attack's spec for the score-aware settings ("" when
     * neither is set, so rounds without them keep their identity): {@code " stop=... search=..."}.
     * The random streams stay keyed on the attack's own spec, so an early-stopped image follows the
     * same trajectory as without {@code stop}, and a search attempt at eps e is the attack at e.
     */
    public String scoreAwareSpec() {
        String s = (stop == null ? "" : " " + stop.spec()) + (search == null ? "" : " " + search.spec());
        return s.isEmpty() || metTopK == 1 ? s : s + " met-top-k=" + metTopK;
    }

    /** Whether {@code stop} or {@code search} queries the validation models. */
    public boolean usesValidation() {
        return stop != null && stop.until() == ScoreAware.Until.VALIDATION
                || search != null && search.until() == ScoreAware.Until.VALIDATION;
    }

    /**
     * This attack at another budget (a search attempt): eps {@code epsPixels}, the step size
     * scaled with it (so eps / steps stays eps / steps), a search of that one budget.
     */
    public AttackConfig atEps(double epsPixels) {
        double step = stepSizePixels * epsPixels / this.epsPixels;
        // A one-budget search: the attempt's PNG is judged on the search's set (its `met`), and
        // its identity does not depend on the other budgets or the walk.
        ScoreAware.Search one = search == null ? null
                : new ScoreAware.Search(List.of(epsPixels), search.until(), ScoreAware.Mode.LADDER);
        return new AttackConfig(epsPixels, steps, step, decay, objective, untargetedWeight, targetedWeight, update, inputs,
                gradients, loss, init, filter, ensemble, copies, augment, stop, one, metTopK);
    }

    /** The set a written PNG is judged on (its {@code met} column): the search's, else the stop's, else null. */
    public ScoreAware.Until judgedOn() {
        return search != null ? search.until() : stop != null ? stop.until() : null;
    }

    /**
     * Whether a prediction meets this attack's objective, as {@code attack.stop} and
     * {@code attack.search} decide it: untargeted, away from the true label; targeted, on the
     * target; weighted, on the target when its weight is positive, else away from the true label.
     * Labels in one convention (both 0-based or both the dataset's).
     */
    public boolean met(int predicted, int trueLabel, int targetLabel) {
        return met(new int[] {predicted}, trueLabel, targetLabel);
    }

    /**
     * As {@link #met(int, int, int)} on a ranking ({@code top}: best first): untargeted, the true
     * label is not among the first {@code metTopK}; targeted, the target is first.
     */
    public boolean met(int[] top, int trueLabel, int targetLabel) {
        boolean targeted = objective == Objective.TARGETED || objective == Objective.WEIGHTED && targetedWeight > 0;
        if (targeted) {
            return top[0] == targetLabel;
        }
        for (int r = 0; r < Math.min(metTopK, top.length); r++) {
            if (top[r] == trueLabel) {
                return false;
            }
        }
        return true;
    }

    /** The objective family; the weights make the loss. */
    public enum Objective {
        UNTARGETED,
        TARGETED,
        WEIGHTED
    }

    /** Weight of the untargeted term as used by the loss. */
    public double effectiveUntargetedWeight() {
        return switch (objective) {
            case UNTARGETED -> 1.0;
            case TARGETED -> 0.0;
            case WEIGHTED -> untargetedWeight;
        };
    }

    /** Weight of the targeted term as used by the loss. */
    public double effectiveTargetedWeight() {
        return switch (objective) {
            case UNTARGETED -> 0.0;
            case TARGETED -> 1.0;
            case WEIGHTED -> targetedWeight;
        };
    }

    /**
     * The attack this configuration describes, built from the typed specs. Without an update or
     * a loss it is MI-FGSM with the CE objective given by {@code objective} and {@code decay};
     * FGSM forces one step of size eps and PGD a uniform random start, as their papers define them.
     */
    public Attack toAttack() {
        UpdateRule u = update == null ? new Momentum(decay, false, 0, 0) : Catalogue.build(update, UpdateRule.class);
        Loss l = loss == null
                ? new CrossEntropy(effectiveUntargetedWeight(), effectiveTargetedWeight())
                : Catalogue.build(loss, Loss.class);
        Initializer start = Catalogue.build(init, Initializer.class);
        int n = steps;
        double step = stepSizePixels;
        String rule = u.spec();
        if (rule.equals("fgsm")) {
            n = 1;
            step = epsPixels;
        } else if (rule.equals("pgd") && start instanceof ZeroInit) {
            start = new UniformInit(1.0);
        }
        return new Attack(
                epsPixels,
                step,
                n,
                start,
                inputs.stream().map(s -> Catalogue.build(s, InputTransform.class)).toList(),
                l,
                gradients.stream().map(s -> Catalogue.build(s, GradientTransform.class)).toList(),
                u,
                filter == null ? null : Catalogue.build(filter, PerturbationFilter.class),
                copies,
                ensemble,
                augment.stream().map(s -> Catalogue.build(s, ModelAugmentation.class)).toList());
    }

    /** A builder with the defaults of reference.conf: eps 8, 10 steps of eps/10, MI-FGSM, untargeted CE. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds an {@link AttackConfig}; part setters take spec text and parse it once. */
    public static final class Builder {
        private double epsPixels = 8;
        private int steps = 10;
        private double stepSizePixels;
        private double decay = 1.0;
        private Objective objective = Objective.UNTARGETED;
        private double untargetedWeight = 1.0;
        private double targetedWeight = 1.0;
        private Spec update;
        private final List<Spec> inputs = new ArrayList<>();
        private final List<Spec> gradients = new ArrayList<>();
        private Spec loss;
        private Spec init = Catalogue.parse(Kind.INIT, "zeros");
        private Spec filter;
        private Ensembling ensemble = EnsembleMode.LOGITS;
        private int copies = 1;
        private final List<Spec> augment = new ArrayList<>();
        private ScoreAware.Stop stop;
        private ScoreAware.Search search;
        private int metTopK = 1;

        private Builder() {}

        /** How stop and search judge an untargeted image: outside the top k (1..5). */
        public Builder metTopK(int k) {
            this.metTopK = k;
            return this;
        }

        /** Early exit (null: none). */
        public Builder stop(ScoreAware.Stop rule) {
            this.stop = rule;
            return this;
        }

        /** Budget search (null: none); its largest budget becomes the eps. */
        public Builder search(ScoreAware.Search s) {
            this.search = s;
            return this;
        }

        public Builder eps(double pixels) {
            this.epsPixels = pixels;
            return this;
        }

        public Builder steps(int n) {
            this.steps = n;
            return this;
        }

        /** Step in 0..255 units; 0 (the default) means eps / steps. */
        public Builder stepSize(double pixels) {
            this.stepSizePixels = pixels;
            return this;
        }

        public Builder decay(double mu) {
            this.decay = mu;
            return this;
        }

        public Builder objective(Objective o) {
            this.objective = o;
            return this;
        }

        /** The weights of the {@code weighted} objective. */
        public Builder weights(double untargeted, double targeted) {
            this.untargetedWeight = untargeted;
            this.targetedWeight = targeted;
            return this;
        }

        /** The update rule, e.g. {@code ni(decay=1)}; blank keeps MI-FGSM with {@link #decay}. */
        public Builder update(String spec) {
            this.update = optional(Kind.UPDATE, spec);
            return this;
        }

        public Builder input(String... specs) {
            for (String s : specs) {
                inputs.add(Catalogue.parse(Kind.INPUT, s));
            }
            return this;
        }

        public Builder inputs(List<String> specs) {
            return input(specs.toArray(String[]::new));
        }

        public Builder gradient(String... specs) {
            for (String s : specs) {
                gradients.add(Catalogue.parse(Kind.GRADIENT, s));
            }
            return this;
        }

        public Builder gradients(List<String> specs) {
            return gradient(specs.toArray(String[]::new));
        }

        /** The loss, e.g. {@code logit}; blank keeps the CE of {@link #objective}. */
        public Builder loss(String spec) {
            this.loss = optional(Kind.LOSS, spec);
            return this;
        }

        public Builder init(String spec) {
            this.init = Catalogue.parse(Kind.INIT, spec);
            return this;
        }

        /** The perturbation filter; {@code none} for none (an empty spec is refused, as in a round). */
        public Builder filter(String spec) {
            this.filter = PartSpec.parse(spec).name().equals("none") ? null : Catalogue.parse(Kind.FILTER, spec);
            return this;
        }

        public Builder ensemble(String spec) {
            this.ensemble = Catalogue.create(Kind.ENSEMBLE, spec, Ensembling.class);
            return this;
        }

        public Builder copies(int n) {
            this.copies = n;
            return this;
        }

        public Builder augment(String... specs) {
            for (String s : specs) {
                augment.add(Catalogue.parse(Kind.AUGMENT, s));
            }
            return this;
        }

        public Builder augments(List<String> specs) {
            return augment(specs.toArray(String[]::new));
        }

        public AttackConfig build() {
            double eps = search == null ? epsPixels : search.maxEps();
            double step = stepSizePixels == 0 ? eps / steps : stepSizePixels;
            return new AttackConfig(eps, steps, step, decay, objective, untargetedWeight, targetedWeight, update,
                    inputs, gradients, loss, init, filter, ensemble, copies, augment, stop, search, metTopK);
        }

        private static Spec optional(Kind kind, String spec) {
            return spec == null || spec.isBlank() ? null : Catalogue.parse(kind, spec);
        }
    }
}
