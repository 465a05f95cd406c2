package io.advspark.attack.augment;

import ai.djl.ndarray.NDManager;
import io.advspark.attack.Draws;
import io.advspark.model.Classifier;
import io.advspark.model.Ensemble;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;
import java.util.List;
import java.util.Random;

/**
 * A checkpoint ensemble sampled per step: every surrogate entry that names a group of checkpoints
 * ({@code { group = "folder" }}, see {@code io.advspark.model.CheckpointGroup} and
 * {@code tools/collect_checkpoints.py}) stands, at each attack step and for each image, for
 * {@code k} of its members drawn from the image's stream, their logits averaged. Spec
 * {@code checkpoints(per-step=1)}.
 *
 * <p>Papers: LGV (Gubri et al., "LGV: Boosting Adversarial Example Transferability from Large
 * Geometric Vicinity", ECCV 2022) collects the checkpoints of a few epochs of SGD at a high constant
 * learning rate from a trained model and attacks one randomly chosen checkpoint per iteration;
 * MoreBayesian (Li et al., "Making Substitute Models More Bayesian Can Enhance Transferability of
 * Adversarial Examples", ICLR 2023) samples models around the trained weights per iteration. Both
 * use one model per iteration: default k = 1. A larger k trades time (k forwards and backwards
 * per group per row) for a lower-variance gradient.
 *
 * <p>Departures: LGV's code (and torchattacks' LGV) draws one checkpoint per iteration for the
 * whole batch from the process's global generator; here each image draws its own from its own
 * stream, so an image's result does not depend on its batch-mates, its partition or a rerun. With
 * k > 1 the k members are distinct (drawn without replacement).
 *
 * <p>Fusion: under {@code ensemble = logits} the group's logits are {@code s_g / k sum_j z_{m_j}}
 * (s_g the group's share of the ensemble); under {@code losses} its loss is
 * {@code s_g / k sum_j L(z_{m_j})}; {@code probs} is not supported. A group whose entry has
 * {@code augment = false} and an attack without this augmentation use every member
 * (the average of all their logits).
 *
 * <p>Draws: at the start of every step, before any other part of the step draws, for each image
 * {@code i} from {@code draws.rng(i)}, for each augmented group in the order of its first member:
 * a partial Fisher-Yates shuffle of the member positions {@code 0..n-1}, {@code j = 0..k-1}:
 * {@code s = j + nextInt(n - j)}, swap positions {@code j} and {@code s}; the image uses the
 * members at positions {@code 0..k-1}. Every row of the image in that step (its copies, sampled
 * points, inner steps) goes through the same members; the rows that drew a member go through it
 * in one forward (micro-batched under the row cap), and their logits are summed in member order.
 */
public record Checkpoints(int perStep) implements ModelAugmentation {
    public static final Entry<Checkpoints> DECLARATION = Entry.of(Kind.AUGMENT, "checkpoints", Checkpoints.class)
            .summary("Per step and image, k members of each checkpoint group (a model entry with group = ...) drawn"
                    + " from the image's stream, their logits averaged (LGV / MoreBayesian)")
            .paper("Gubri et al., \"LGV: Boosting Adversarial Example Transferability from Large Geometric Vicinity\","
                    + " ECCV 2022; Li et al., \"Making Substitute Models More Bayesian Can Enhance Transferability of"
                    + " Adversarial Examples\", ICLR 2023")
            .param(Param.integer("per-step", 1, 1, 256,
                    "members drawn per step and image from each group (1: LGV's and MBA's one model per iteration)")
                    .from("perStep"))
            .randomised()
            .build(s -> new Checkpoints(s.integer("per-step")));

    public Checkpoints {
        if (perStep < 1) {
            throw new IllegalArgumentException("checkpoints per-step must be >= 1, got " + perStep);
        }
    }

    @Override
    public boolean usesDropoutSites() {
        return false;
    }

    @Override
    public float[][] masks(List<long[]> sites, int rows, Draws draws) {
        throw new UnsupportedOperationException("checkpoints draws members, not dropout masks");
    }

    /** Nothing to check on one model: the groups are checked as a whole ({@link #checkGroups}). */
    @Override
    public void checkSupport(Classifier model, NDManager manager) {}

    /**
     * The groups this augmentation samples: those whose members have {@code augment} on. Fails
     * when there is none or one has fewer than {@code per-step} members.
     */
    public List<int[]> sampledGroups(Ensemble ensemble) {
        List<int[]> out = ensemble.groups().stream().filter(g -> ensemble.members().get(g[0]).augment()).toList();
        if (out.isEmpty()) {
            throw new IllegalArgumentException("attack.augment " + spec() + " needs a surrogate entry naming a checkpoint"
                    + " group (group = \"folder\", augment = true); the surrogates are single files");
        }
        for (int[] g : out) {
            if (g.length < perStep) {
                throw new IllegalArgumentException("attack.augment " + spec() + ": checkpoint group "
                        + ensemble.members().get(g[0]).group() + " has " + g.length + " member(s), fewer than per-step="
                        + perStep);
            }
        }
        return out;
    }

    /**
     * One step's choice: for each member, which images use it ({@code uses[member][image]}; null
     * for a member outside the sampled groups, which every row uses), and the factor of its logits.
     *
     * @param uses per member, per image
     * @param factor per member: {@code share_g / k} for a sampled group's member, else its share
     */
    public record Picks(boolean[][] uses, double[] factor) {
        /** The rows {@code first .. first + size} of a forward whose row r is image {@code r % images}. */
        public Ensemble.RowChoice rows(int first, int size, int images) {
            return new Ensemble.RowChoice() {
                @Override
                public int[] rows(int i) {
                    if (uses[i] == null) {
                        return null;
                    }
                    int count = 0;
                    for (int r = 0; r < size; r++) {
                        count += uses[i][(first + r) % images] ? 1 : 0;
                    }
                    int[] out = new int[count];
                    int j = 0;
                    for (int r = 0; r < size; r++) {
                        if (uses[i][(first + r) % images]) {
                            out[j++] = r;
                        }
                    }
                    return out;
                }

                @Override
                public double factor(int i) {
                    return factor[i];
                }
            };
        }
    }

    /** Draws one step's members for the {@code images} images (see the class comment for the order). */
    public Picks draw(Ensemble ensemble, int images, Draws draws) {
        List<int[]> groups = sampledGroups(ensemble);
        int members = ensemble.members().size();
        boolean[][] uses = new boolean[members][];
        double[] factor = new double[members];
        for (int i = 0; i < members; i++) {
            factor[i] = ensemble.share(i);
        }
        for (int[] g : groups) {
            double share = 0;
            for (int m : g) {
                share += ensemble.share(m);
                uses[m] = new boolean[images];
            }
            for (int m : g) {
                factor[m] = share / perStep;
            }
        }
        for (int img = 0; img < images; img++) {
            Random rng = draws.rng(img);
            for (int[] g : groups) {
                int n = g.length;
                int[] pos = new int[n];
                for (int j = 0; j < n; j++) {
                    pos[j] = j;
                }
                for (int j = 0; j < perStep; j++) {
                    int s = j + rng.nextInt(n - j);
                    int t = pos[j];
                    pos[j] = pos[s];
                    pos[s] = t;
                }
                for (int j = 0; j < perStep; j++) {
                    uses[g[pos[j]]][img] = true;
                }
            }
        }
        return new Picks(uses, factor);
    }
}
