package io.advspark.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The arithmetic of the memory estimate, without Spark or libtorch. */
class MemoryEstimateTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    /**
     * An ImageNet surrogate at 224x224 with an illustrative 19 MiB per row (the figure is an
     * argument here; rounds measure it, see model.ActivationMemory) and 98 MB of weights.
     */
    private static final MemoryEstimate.Surrogate R50 = new MemoryEstimate.Surrogate("r50", 3, 224, 224, 19 * MIB, 98_000_000);
    /** ResNet-20 on CIFAR-10 with about the 3 MiB per row it measures (ActivationMemoryTest). */
    private static final MemoryEstimate.Surrogate R20 = new MemoryEstimate.Surrogate("r20", 3, 32, 32, 3_235_000, 1_193_841);

    private static long rowsPerImage(AttackConfig.Builder b) {
        return b.build().toAttack().rowsPerImage();
    }

    @Test
    void rowsPerImageMultiplyCopiesTransformsAndPoints() {
        assertEquals(1, rowsPerImage(AttackConfig.builder()));
        assertEquals(5, rowsPerImage(AttackConfig.builder().input("si(copies=5)")));
        // MI-DI-TI-SI-Admix: Admix's 5 scales (SI) x 3 mixes; DI and TI add no rows.
        assertEquals(15, rowsPerImage(AttackConfig.builder().input("di(p=0.5, resize=1.1)",
                "admix(strength=0.2, mixes=3, copies=5)").gradient("ti(size=7, sigma=3)")));
        assertEquals(20, rowsPerImage(AttackConfig.builder().update("vmi(decay=1.0, n=20, beta=1.5)")));
        assertEquals(40, rowsPerImage(AttackConfig.builder().update("vmi(decay=1.0, n=20, beta=1.5)").copies(2)));
        assertEquals(20, rowsPerImage(AttackConfig.builder().update("pgn(decay=1.0, n=20, delta=0.5, zeta=3)")));
        assertEquals(11, rowsPerImage(AttackConfig.builder().update("emi(decay=1.0, n=11, eta=7)")));
    }

    @Test
    void miDiTiSiAdmixAtBatch10OnEightCores() {
        int tasks = MemoryEstimate.tasksPerExecutor("local[*]", Map.of(), 8);
        assertEquals(8, tasks);
        MemoryEstimate.Executor machine = new MemoryEstimate.Executor(tasks, 24 * GIB, GIB, "test");
        // Uncut (max-rows above the 150 rows of a call): 150 rows padded to 152 per task.
        MemoryEstimate.Line uncut = MemoryEstimate.estimate(new MemoryEstimate.Workload("mi-di-ti-si-admix", 10, 15, 1000),
                List.of(R50), machine, 0.7);
        assertEquals(150, uncut.workload().rowsPerCall());
        assertEquals(152, uncut.workload().rowsPerForward());
        assertEquals(8 * 152, uncut.rowsInFlight());
        assertEquals(8L * 152 * 19 * MIB, uncut.activationBytes());
        assertEquals(8L * 150 * 3 * 224 * 224 * 4 * MemoryEstimate.INPUT_COPIES, uncut.inputBytes());
        assertEquals(98_000_000, uncut.modelBytes());
        assertEquals(GIB + (256 * MIB) + 98_000_000 + uncut.activationBytes() + uncut.inputBytes(), uncut.totalBytes());
        assertEquals(MemoryEstimate.Verdict.REFUSE, uncut.verdict(), uncut.describe()); // 26.6 GiB of 24
        assertTrue(uncut.advice().contains("max-rows") && uncut.advice().contains("batch-size (now 10)")
                && uncut.advice().contains("local[N]"), uncut.advice());
        // Under the default max-rows 64: 8 x 64 rows, 9.5 GiB of activations.
        MemoryEstimate.Line cut = MemoryEstimate.estimate(new MemoryEstimate.Workload("mi-di-ti-si-admix", 10, 15, 64),
                List.of(R50), machine, 0.7);
        assertEquals(512, cut.rowsInFlight());
        assertEquals(512L * 19 * MIB, cut.activationBytes());
        assertEquals(MemoryEstimate.Verdict.OK, cut.verdict(), cut.describe());
        assertTrue(cut.describe().startsWith("attack mi-di-ti-si-admix: 512 rows in flight per executor (8 task(s) x 64 rows"),
                cut.describe());
    }

    /**
     * OPS builds one neighbour's compositions at a time: 201 rows per image, 20 alive at once,
     * plus what its compositions' graphs hold per copy; rows at the images' 299 x 299, not the
     * surrogate's 128 x 128.
     */
    @Test
    void opsCountsOneChunkOfCopiesAtTheImagesSize() {
        io.advspark.attack.Attack ops = AttackConfig.builder()
                .input("ops(neighbors=10, operators=20, beta=2, min_level=2, max_level=4)").build().toAttack();
        assertEquals(201, ops.rowsPerImage());
        assertEquals(20, ops.rowsBuiltPerImage());
        double perCopy = ops.inputs().get(0).graphRowsPerOutputRow();
        assertTrue(perCopy > 1, "OPS declares its compositions' graph memory");
        assertEquals(20 * (perCopy - 1), ops.graphRowsPerImage(), 1e-9);
        // VMI's two points and two tiled copies: one point's chunk of 2 x 3 copies alive at once;
        // DI before OPS holds nothing beyond its output.
        io.advspark.attack.Attack diOps = AttackConfig.builder().update("vmi(decay=1.0, n=2, beta=1.5)").copies(2)
                .input("di(p=0.5, resize=1.1)", "ops(neighbors=2, operators=3)").build().toAttack();
        assertEquals(2 * 7 * 2, diOps.rowsPerImage());
        assertEquals(2 * 3, diOps.rowsBuiltPerImage());
        assertEquals(6 * (perCopy - 1), diOps.graphRowsPerImage(), 1e-9);

        MemoryEstimate.Surrogate mobile = new MemoryEstimate.Surrogate("m128", 3, 128, 128, 2 * MIB, 2_000_000);
        MemoryEstimate.Executor two = new MemoryEstimate.Executor(2, 24 * GIB, 0, "test");
        MemoryEstimate.Workload w = new MemoryEstimate.Workload("ops", 10, ops.rowsPerImage(), 64, ops.rowsBuiltPerImage(),
                ops.graphRowsPerImage());
        MemoryEstimate.Line l = MemoryEstimate.estimate(w, List.of(mobile), two, 0.7, 299L * 299);
        long row = 3L * 299 * 299 * 4;
        assertEquals(2 * 64, l.rowsInFlight());
        assertEquals(2L * 10 * 20 * row * MemoryEstimate.INPUT_COPIES, l.inputBytes());
        assertEquals((long) Math.ceil(2 * 10 * ops.graphRowsPerImage() * row), l.transformBytes());
        assertTrue(l.describe().contains("batch 10 x 201 rows per image, 20 built at once") && l.describe().contains("+ transforms"),
                l.describe());
        // Without the image size, the surrogate's input.
        MemoryEstimate.Line small = MemoryEstimate.estimate(w, List.of(mobile), two, 0.7);
        assertEquals(2L * 10 * 20 * 3 * 128 * 128 * 4 * MemoryEstimate.INPUT_COPIES, small.inputBytes());
    }

    @Test
    void ensembleSumsItsMembersPerRowAndTakesTheLargestInput() {
        MemoryEstimate.Executor one = new MemoryEstimate.Executor(2, 64 * GIB, 0, "test");
        MemoryEstimate.Line l = MemoryEstimate.estimate(new MemoryEstimate.Workload("vmi", 10, 20, 64), List.of(R50, R20), one,
                0.7);
        assertEquals(2 * 64, l.rowsInFlight());
        assertEquals(128L * (19 * MIB + 3_235_000), l.activationBytes());
        assertEquals(2L * 200 * 3 * 224 * 224 * 4 * MemoryEstimate.INPUT_COPIES, l.inputBytes());
        assertEquals(98_000_000 + 1_193_841, l.modelBytes());
    }

    @Test
    void smallCallsArePaddedToFourRowsAndVerdictsFollowTheThresholds() {
        MemoryEstimate.Workload mi = new MemoryEstimate.Workload("mi", 1, 1, 64);
        assertEquals(4, mi.rowsPerForward(), "every forward is padded to a multiple of 4 rows");
        assertEquals(4, new MemoryEstimate.Workload("mi", 8, 1, 1).rowsPerForward());
        assertEquals(8, new MemoryEstimate.Workload("mi", 6, 1, 64).rowsPerForward());
        // MI at batch 8 on local[2] with ResNet-20: 16 rows x 3.1 MiB.
        MemoryEstimate.Workload batch8 = new MemoryEstimate.Workload("mi", 8, 1, 64);
        long need = MemoryEstimate.estimate(batch8, List.of(R20), new MemoryEstimate.Executor(2, GIB, 0, "t"), 0.7).totalBytes();
        assertEquals(16L * 3_235_000 + 2L * 8 * 3 * 32 * 32 * 4 * 4 + 1_193_841 + 256 * MIB, need);
        assertEquals(MemoryEstimate.Verdict.OK,
                MemoryEstimate.estimate(batch8, List.of(R20), new MemoryEstimate.Executor(2, 2 * need, 0, "t"), 0.7).verdict());
        assertEquals(MemoryEstimate.Verdict.WARN,
                MemoryEstimate.estimate(batch8, List.of(R20), new MemoryEstimate.Executor(2, need * 5 / 4, 0, "t"), 0.7).verdict());
        assertEquals(MemoryEstimate.Verdict.WARN,
                MemoryEstimate.estimate(batch8, List.of(R20), new MemoryEstimate.Executor(2, need, 0, "t"), 0.7).verdict(),
                "exactly 100% fits: warned, not refused");
        assertEquals(MemoryEstimate.Verdict.REFUSE,
                MemoryEstimate.estimate(batch8, List.of(R20), new MemoryEstimate.Executor(2, need - 1, 0, "t"), 0.7).verdict());
    }

    @Test
    void tasksPerExecutorFromTheMaster() {
        assertEquals(1, MemoryEstimate.tasksPerExecutor("local", Map.of(), 8));
        assertEquals(3, MemoryEstimate.tasksPerExecutor("local[3]", Map.of(), 8));
        assertEquals(8, MemoryEstimate.tasksPerExecutor("local[*]", Map.of(), 8));
        assertEquals(2, MemoryEstimate.tasksPerExecutor("local[2,4]", Map.of(), 8));
        assertEquals(3, MemoryEstimate.tasksPerExecutor("local-cluster[2,3,1024]", Map.of(), 8));
        assertEquals(2, MemoryEstimate.tasksPerExecutor("yarn", Map.of("spark.executor.cores", "4", "spark.task.cpus", "2"), 8));
        assertEquals(1, MemoryEstimate.tasksPerExecutor("k8s://https://h:443", Map.of(), 8));
        assertTrue(MemoryEstimate.isLocal("local[*]") && !MemoryEstimate.isLocal("local-cluster[2,1,1024]"));
    }

    @Test
    void clusterBudgetIsMemoryPlusOverhead() {
        assertEquals(GIB + 384 * MIB, MemoryEstimate.clusterExecutorBytes("yarn", Map.of()));
        assertEquals(8 * GIB + (long) (0.1 * 8 * GIB),
                MemoryEstimate.clusterExecutorBytes("yarn", Map.of("spark.executor.memory", "8g")));
        assertEquals(4 * GIB + 2 * GIB, MemoryEstimate.clusterExecutorBytes("spark://h:7077",
                Map.of("spark.executor.memory", "4096", "spark.executor.memoryOverhead", "2g")));
        assertEquals(1024 * MIB + 384 * MIB, MemoryEstimate.clusterExecutorBytes("local-cluster[2,1,1024]", Map.of()));
        assertEquals(512 * MIB, MemoryEstimate.sizeBytes("512m", 'm'));
        assertEquals(3 * GIB, MemoryEstimate.sizeBytes("3GiB", 'm'));
    }

    @Test
    void settingsFromTheRoundFile() {
        RoundConfig defaults = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of());
        assertEquals(MemorySettings.DEFAULT, defaults.memory());
        RoundConfig set = ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("memory.check=warn", "memory.warn-fraction=0.5", "memory.available=16g"));
        assertEquals(new MemorySettings(MemorySettings.Check.WARN, 0.5, 16 * GIB), set.memory());
        io.advspark.vocabulary.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.advspark.vocabulary.ConfigException.class, () -> ConfigLoader.load(io.advspark.testing.Rounds.TINY, List.of("memory.check=maybe")));
        assertTrue(e.getMessage().contains("advspark.memory.check"), e.getMessage());
        assertEquals(RoundConfig.DEFAULT_MAX_ROWS, set.maxRows());
    }
}
