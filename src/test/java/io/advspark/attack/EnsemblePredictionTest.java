package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.model.Autograd;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** White-box predictions use the ensemble as the attack combines it, computed here from the members' logits. */
class EnsemblePredictionTest {
    private static final Path MODELS = Fixtures.DEMO_DATA.resolveSibling("models");

    @Test
    void eachModePredictsWithItsOwnCombination() throws Exception {
        TorchRuntime.start(2);
        int n = 32;
        long[] shape = {n, 3, 64, 64};
        float[] px = new float[n * 3 * 64 * 64];
        Random rnd = new Random(3);
        for (int i = 0; i < px.length; i++) {
            px[i] = rnd.nextFloat();
        }
        // Unequal weights, so that the three combinations can disagree.
        try (Ensemble ens = Ensemble.load(List.of(Fixtures.bundle(MODELS.resolve("tiny_a.pt"), 1.0),
                        Fixtures.bundle(MODELS.resolve("tiny_b.pt"), 3.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            float[][] z = Autograd.noGrad(() -> {
                NDArray x = m.create(px, new Shape(shape));
                List<NDArray> members = ens.memberLogits(x);
                return new float[][] {members.get(0).toFloatArray(), members.get(1).toFloatArray()};
            });
            int c = z[0].length / n;
            int[] logits = new int[n];
            int[] probs = new int[n];
            int[] losses = new int[n];
            for (int i = 0; i < n; i++) {
                double[] sl = new double[c];
                double[] sp = new double[c];
                double[] sll = new double[c];
                double[] w = {1.0, 3.0};
                for (int k = 0; k < 2; k++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < c; j++) {
                        max = Math.max(max, z[k][i * c + j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < c; j++) {
                        sum += Math.exp(z[k][i * c + j] - max);
                    }
                    for (int j = 0; j < c; j++) {
                        double logp = z[k][i * c + j] - max - Math.log(sum);
                        sl[j] += w[k] * z[k][i * c + j];
                        sp[j] += w[k] / 4.0 * Math.exp(logp);
                        sll[j] += w[k] * logp;
                    }
                }
                logits[i] = argmax(sl);
                probs[i] = argmax(sp);
                losses[i] = argmax(sll);
            }
            assertArrayEquals(logits, engine(ens, "logits").predict(px, shape, m));
            assertArrayEquals(probs, engine(ens, "probs").predict(px, shape, m));
            assertArrayEquals(losses, engine(ens, "losses").predict(px, shape, m));
            assertArrayEquals(ens.predict(px, shape, m), engine(ens, "logits").predict(px, shape, m));
        }
    }

    private static AttackEngine engine(Ensemble ens, String mode) {
        return new AttackEngine(AttackConfig.builder().ensemble(mode).build().toAttack(), ens);
    }

    private static int argmax(double[] v) {
        int best = 0;
        for (int j = 1; j < v.length; j++) {
            if (v[j] > v[best]) {
                best = j;
            }
        }
        return best;
    }
}
