package io.advspark.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.advspark.data.ManifestRow;
import io.advspark.data.RgbImage;
import io.advspark.model.Ensemble;
import io.advspark.model.TorchRuntime;
import io.advspark.model.TorchThreads;
import io.advspark.plan.AttackConfig;
import io.advspark.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Two tasks of one executor attack at the same time through ONE shared ensemble (as Spark tasks
 * share the executor's ModelCache entry), and neither corrupts the other's gradients: each
 * result is bit-identical to the same batch attacked alone. The design (model/Autograd): no DJL
 * GradientCollector (one per JVM), libtorch's thread-local grad mode, a fresh leaf and graph per
 * gradient on a torch worker thread per task (TorchThreads). Random parts are on, so draws are
 * checked too. Demo models: runs on a fresh clone.
 */
class ConcurrentTasksTest {
    private static final Path DEMO = Path.of("demo").toAbsolutePath();

    @Test
    void twoConcurrentTasksGiveTheResultsOfSequentialOnes() throws Exception {
        TorchRuntime.start(2); // the test JVM's count (surefire argLine): libtorch reads it once per JVM
        Path data = DEMO.resolve("data");
        List<ManifestRow> rows = Fixtures.manifest(data, 0, 16);
        List<RgbImage> imgs = Fixtures.images(data, rows);
        Attack attack = AttackConfig.builder().eps(8).steps(5).stepSize(2).objective(AttackConfig.Objective.WEIGHTED)
                .weights(1, 0.5).update("mi(decay=1.0)").inputs(List.of("di(p=0.5, resize=1.1)"))
                .gradients(List.of("ti(kernel=gaussian, size=5, sigma=1)")).init("uniform").build().toAttack();
        try (Ensemble ens = Ensemble.load(List.of(Fixtures.bundle(DEMO.resolve("models/tiny_a.pt"), 1.0),
                        Fixtures.bundle(DEMO.resolve("models/tiny_b.pt"), 1.0)));
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            AttackEngine engine = new AttackEngine(attack, ens);
            // Two "tasks", each with four batches of two images.
            List<List<Integer>> tasks = List.of(List.of(0, 1, 2, 3, 4, 5, 6, 7), List.of(8, 9, 10, 11, 12, 13, 14, 15));
            List<float[]> alone = new ArrayList<>();
            for (List<Integer> t : tasks) {
                alone.add(runTask(engine, t, rows, imgs, m));
            }
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                for (int round = 0; round < 3; round++) {
                    CountDownLatch start = new CountDownLatch(1);
                    List<Future<float[]>> together = new ArrayList<>();
                    for (List<Integer> t : tasks) {
                        together.add(pool.submit(() -> {
                            start.await();
                            try (NDManager tm = TorchRuntime.newManager(Device.cpu())) {
                                return runTask(engine, t, rows, imgs, tm);
                            }
                        }));
                    }
                    start.countDown();
                    for (int i = 0; i < tasks.size(); i++) {
                        assertArrayEquals(alone.get(i), together.get(i).get(), "task " + i + " differs when run concurrently");
                    }
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(TorchThreads.started() >= 2, "each concurrent task had its own torch worker thread");
        }
    }

    /** The batches of one task, as PartitionAttacker runs them: engine work on a torch worker thread. */
    private static float[] runTask(AttackEngine engine, List<Integer> idx, List<ManifestRow> rows, List<RgbImage> imgs,
            NDManager m) throws Exception {
        int per = 3 * 64 * 64;
        float[] out = new float[idx.size() * per];
        for (int b = 0; b < idx.size(); b += 2) {
            List<Integer> batch = idx.subList(b, b + 2);
            float[] clean = Fixtures.batch(batch.stream().map(imgs::get).toList());
            int[] y = batch.stream().mapToInt(i -> rows.get(i).trueLabel()).toArray();
            int[] t = batch.stream().mapToInt(i -> rows.get(i).targetLabel()).toArray();
            long[] seeds = batch.stream().mapToLong(i -> Draws.seedFor("r", "concurrent", rows.get(i).imageId())).toArray();
            float[] adv = TorchThreads.call(() -> engine.run(clean, new long[] {2, 3, 64, 64}, y, t, new Draws(seeds), m, null));
            System.arraycopy(adv, 0, out, b * per, adv.length);
        }
        return out;
    }
}
