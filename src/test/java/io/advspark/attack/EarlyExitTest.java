package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.advspark.data.ManifestRow;
import io.advspark.data.RgbImage;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchRuntime;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Early exit ({@code attack.stop}) in the engine: images reported done keep the iterate they had at
 * that check and leave the batch; the images that run on come out bit for bit as without early
 * exit (their state arrays are cut to the running rows, their draws continue in their own
 * streams); a check that never reports done changes nothing. Rules with extra state (VMI's
 * variance, GRA's indicator, EMI's average, MEF's inner points), a stateful ensemble strategy (CWA)
 * and a perturbation filter are covered. Demo models and images: runs on a fresh clone.
 */
class EarlyExitTest {
    private static final Path DEMO = Path.of("demo").toAbsolutePath();
    private static final int N = 8;
    private static final int STEPS = 10;
    private static final int PER = 3 * 64 * 64;
    private static List<ManifestRow> rows;
    private static List<RgbImage> images;

    @BeforeAll
    static void load() throws Exception {
        TorchRuntime.start(2);
        rows = Fixtures.manifest(DEMO.resolve("data"), 0, N);
        images = Fixtures.images(DEMO.resolve("data"), rows);
    }

    /** update | ensemble | filter */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mi(decay=1.0)|logits|none", "vmi(decay=1.0, n=2, beta=1.5)|logits|none",
        "gra(decay=1.0, n=2)|logits|none", "emi(decay=1.0, n=3, eta=7)|logits|none", "mef(decay=1.0, n=2)|logits|none",
        "pgn(decay=1.0, n=2)|logits|none", "mi(decay=1.0)|cwa|none", "mi(decay=1.0)|logits|gaussian(sigma=1)"})
    void finishedImagesLeaveAndTheRestRunOnUnchanged(String spec) throws Exception {
        String[] p = spec.split("\\|");
        Attack attack = AttackConfig.builder().eps(8).steps(STEPS).stepSize(0.8).update(p[0]).ensemble(p[1]).filter(p[2])
                .build().toAttack();
        try (Ensemble ens = Ensemble.load(List.of(Fixtures.bundle(DEMO.resolve("models/tiny_a.pt"), 1.0),
                        Fixtures.bundle(DEMO.resolve("models/tiny_b.pt"), 1.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            AttackEngine engine = new AttackEngine(attack, ens);
            // The full run, with each step's iterate kept (what a stopped image must keep, no filter).
            Map<Integer, float[]> iterates = new HashMap<>();
            AttackEngine.Result full = run(engine, m, new Recorder(iterates), null);
            assertArrayEquals(new int[N], full.checks());

            // Never done: nothing changes, the checks are counted.
            Scripted never = new Scripted(2, Map.of());
            AttackEngine.Result same = run(engine, m, null, never);
            assertArrayEquals(full.adversarial(), same.adversarial(), spec + ": a check that stops nothing changed the result");
            assertArrayEquals(full.zeroGradientSteps(), same.zeroGradientSteps());
            int[] steps = new int[N];
            Arrays.fill(steps, STEPS);
            assertArrayEquals(steps, same.stepsDone());
            int[] four = new int[N];
            Arrays.fill(four, 4); // after steps 2, 4, 6, 8; never after the last
            assertArrayEquals(four, same.checks());
            assertEquals(List.of(2, 4, 6, 8), never.asked);

            // Images 1 and 5 done at step 4, image 0 at step 6, the rest run to the end.
            Scripted some = new Scripted(2, Map.of(4, Set.of(1, 5), 6, Set.of(0)));
            AttackEngine.Result early = run(engine, m, null, some);
            assertArrayEquals(new int[] {6, 4, 10, 10, 10, 4, 10, 10}, early.stepsDone());
            assertArrayEquals(new int[] {3, 2, 4, 4, 4, 2, 4, 4}, early.checks());
            for (int i : new int[] {2, 3, 4, 6, 7}) {
                assertArrayEquals(slice(full.adversarial(), i), slice(early.adversarial(), i),
                        spec + ": image " + i + " ran on in a smaller batch and came out differently");
            }
            for (int i : new int[] {1, 5, 0}) {
                float[] kept = slice(early.adversarial(), i);
                assertArrayEquals(some.seen.get(i), kept, spec + ": image " + i + " is not what its check saw");
                if (p[2].equals("none")) {
                    int at = early.stepsDone()[i];
                    assertArrayEquals(slice(iterates.get(at - 1), i), kept,
                            spec + ": image " + i + " is not the full run's iterate after step " + at);
                }
            }
            // Everything done at the first check: the run ends there.
            AttackEngine.Result all = run(engine, m, null, new Scripted(3, Map.of(3, Set.of(0, 1, 2, 3, 4, 5, 6, 7))));
            int[] three = new int[N];
            Arrays.fill(three, 3);
            assertArrayEquals(three, all.stepsDone());
            assertTrue(Arrays.stream(all.checks()).allMatch(c -> c == 1));
        }
    }

    private static AttackEngine.Result run(AttackEngine engine, NDManager m, StepObserver observer, StopCheck stop) {
        float[] clean = Fixtures.batch(images);
        int[] y = new int[N];
        long[] seeds = new long[N];
        for (int i = 0; i < N; i++) {
            y[i] = rows.get(i).trueLabel();
            seeds[i] = Draws.seedFor("early-exit", engine.attack().spec(), rows.get(i).imageId());
        }
        return engine.runCounted(clean, new long[] {N, 3, 64, 64}, y, y, null, new Draws(seeds), m, observer, stop);
    }

    private static float[] slice(float[] a, int image) {
        return Arrays.copyOfRange(a, image * PER, (image + 1) * PER);
    }

    /** Reports the images of a script done at the given steps; keeps what each was shown last. */
    private static final class Scripted implements StopCheck {
        final int every;
        final Map<Integer, Set<Integer>> doneAt;
        final List<Integer> asked = new ArrayList<>();
        final Map<Integer, float[]> seen = new HashMap<>();

        Scripted(int every, Map<Integer, Set<Integer>> doneAt) {
            this.every = every;
            this.doneAt = doneAt;
        }

        @Override
        public int everySteps() {
            return every;
        }

        @Override
        public boolean[] done(int stepsDone, float[] images, long[] shape, int[] running) {
            asked.add(stepsDone);
            assertEquals(running.length, shape[0]);
            assertEquals(running.length * PER, images.length);
            boolean[] done = new boolean[running.length];
            for (int i = 0; i < running.length; i++) {
                seen.put(running[i], slice(images, i));
                done[i] = doneAt.getOrDefault(stepsDone, Set.of()).contains(running[i]);
            }
            return done;
        }
    }

    /** Keeps the whole batch's iterate after each step (the full run only). */
    private record Recorder(Map<Integer, float[]> iterates) implements StepObserver {
        @Override
        public void onStep(int step, NDArray x, NDArray momentum, NDArray grad, NDArray nextX, NDArray nextMomentum) {
            iterates.put(step, nextX.toFloatArray());
        }
    }
}
